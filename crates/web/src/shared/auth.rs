//! Passwords: argon2id hashes (PHC strings), computed on the blocking pool so a login never stalls the async
//! runtime, and fresh random passwords for accounts created by an administrator. A password is hashed and checked
//! in NFC, so "mật khẩu" typed on a keyboard that sends decomposed letters is the same password.

use unicode_normalization::UnicodeNormalization;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("không tạo được mã băm mật khẩu: {0}")]
    Hash(String),
}

/// Hash a password (in NFC) with argon2id and a fresh random salt.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let password: String = password.nfc().collect();
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// It matched a hash made before passwords were normalised (of the form as typed, or decomposed): right,
    /// and the caller should store a new hash of the NFC form.
    NeedsRehash,
}

impl Verified {
    pub fn ok(self) -> bool {
        self != Verified::No
    }
}

/// Whether `password` matches the stored hash: its NFC form first, then (for hashes made before passwords were
/// normalised) the form as typed and the decomposed form. A malformed stored hash never matches.
pub async fn verify_password(password: String, hash: String) -> Verified {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Verified::No;
        };
        let check = |p: &str| {
            Argon2::default()
                .verify_password(p.as_bytes(), &parsed)
                .is_ok()
        };
        let nfc: String = password.nfc().collect();
        if check(&nfc) {
            return Verified::Yes;
        }
        let nfd: String = password.nfd().collect();
        let legacy = [password.as_str(), nfd.as_str()];
        let mut tried = vec![nfc.as_str()];
        for form in legacy {
            if !tried.contains(&form) {
                if check(form) {
                    return Verified::NeedsRehash;
                }
                tried.push(form);
            }
        }
        Verified::No
    })
    .await
    .unwrap_or(Verified::No)
}

/// A random password of 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I), with letters and
/// digits, for an account an administrator creates; the holder changes it at first login.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let bytes = [
            uuid::Uuid::new_v4().into_bytes(),
            uuid::Uuid::new_v4().into_bytes(),
        ]
        .concat();
        let password: String = bytes
            .iter()
            .filter(|b| usize::from(**b) < 256 - 256 % ALPHABET.len())
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .take(16)
            .collect();
        if password.len() == 16 && motcua_domain::check_password(&password).is_ok() {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hash = hash_password("Hòa Bình 2026".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            verify_password("Hòa Bình 2026".into(), hash.clone()).await,
            Verified::Yes
        );
        assert!(
            !verify_password("Hoa Binh 2026".into(), hash.clone())
                .await
                .ok()
        );
        assert!(
            !verify_password("Hòa Bình 2026".into(), "not a hash".into())
                .await
                .ok()
        );
        let again = hash_password("Hòa Bình 2026".into()).await.unwrap();
        assert_ne!(hash, again, "every hash has its own salt");
    }

    #[tokio::test]
    async fn a_password_typed_decomposed_is_the_same_password() {
        let composed = "Mật khẩu Hòa Bình 2026";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        let hash = hash_password(decomposed.clone()).await.unwrap();
        assert_eq!(
            verify_password(composed.into(), hash.clone()).await,
            Verified::Yes
        );
        assert_eq!(
            verify_password(decomposed.clone(), hash).await,
            Verified::Yes
        );
    }

    #[tokio::test]
    async fn a_hash_made_before_normalisation_verifies_once_and_asks_for_a_rehash() {
        let composed = "Mật khẩu Hòa Bình 2026";
        let decomposed: String = composed.nfd().collect();
        // the old code hashed the bytes as typed
        let legacy = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(decomposed.as_bytes())
                .unwrap()
                .to_string()
        })
        .await
        .unwrap();
        assert_eq!(
            verify_password(composed.into(), legacy.clone()).await,
            Verified::NeedsRehash
        );
        assert_eq!(
            verify_password("Mật khẩu khác 2026".into(), legacy).await,
            Verified::No
        );
    }

    #[test]
    fn generated_passwords_pass_the_rule_and_differ() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.chars().count(), 16);
        assert!(motcua_domain::check_password(&a).is_ok());
        assert_ne!(a, b);
    }
}
