//! Passwords: argon2id hashes (PHC strings), computed on the blocking pool so a login never stalls the async
//! runtime, and fresh random passwords for accounts created by an administrator.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("không tạo được mã băm mật khẩu: {0}")]
    Hash(String),
}

/// Hash a password with argon2id and a fresh random salt.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// Whether `password` matches the stored hash. A malformed stored hash never matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
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
        assert!(verify_password("Hòa Bình 2026".into(), hash.clone()).await);
        assert!(!verify_password("Hoa Binh 2026".into(), hash.clone()).await);
        assert!(!verify_password("Hòa Bình 2026".into(), "not a hash".into()).await);
        let again = hash_password("Hòa Bình 2026".into()).await.unwrap();
        assert_ne!(hash, again, "every hash has its own salt");
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
