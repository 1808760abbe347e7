//! The issuing agency's signature on an electronic result (ADR 0007): a detached CMS `SignedData` (RFC 5652,
//! the `.p7s` that PKCS#7 tools read) over the result file, made with the agency's ECDSA P-256 key and carrying its
//! X.509 certificate; and the check of such a signature against a file.
//!
//! Keys and certificates are PEM (PKCS#8 and X.509). [`AgencyKey::self_signed`] makes a pair for a demo or a test;
//! a province uses the certificate its certification authority issued for the agency's key.

use std::time::{Duration, SystemTime};

use cms::{
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::{CmsVersion, ContentInfo},
    signed_data::{
        CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo,
        SignerInfos,
    },
};
use der::{
    Any, Decode, DecodePem, Encode, EncodePem,
    asn1::{ObjectIdentifier, OctetString, SetOfVec, Utf8StringRef},
    pem::LineEnding,
};
use p256::{
    ecdsa::{
        DerSignature, SigningKey, VerifyingKey,
        signature::{Signer, Verifier},
    },
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
};
use sha2::{Digest, Sha256};
use x509_cert::{
    Certificate,
    attr::{Attribute, AttributeTypeAndValue},
    builder::{Builder, CertificateBuilder, Profile},
    name::{Name, RdnSequence, RelativeDistinguishedName},
    serial_number::SerialNumber,
    spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned},
    time::{Time, Validity},
};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const ID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");

/// Why a key could not be read or made, or a signature made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("khóa bí mật không đọc được (cần PKCS#8 PEM, ECDSA P-256): {0}")]
    PrivateKey(String),
    #[error("chứng thư số không đọc được (cần X.509 PEM): {0}")]
    Certificate(String),
    #[error("khóa bí mật không khớp với chứng thư số")]
    Mismatch,
    #[error("không tạo được chữ ký: {0}")]
    Encoding(String),
}

/// Why a file and a signature do not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("tệp chữ ký không phải chữ ký CMS/PKCS#7 hợp lệ")]
    Malformed,
    #[error("chữ ký dùng thuật toán không được hỗ trợ")]
    Unsupported,
    #[error("nội dung tệp đã bị thay đổi so với bản được ký")]
    ContentChanged,
    #[error("chữ ký không hợp lệ với chứng thư số kèm theo")]
    BadSignature,
}

/// An agency's signing key with its certificate.
#[derive(Clone)]
pub struct AgencyKey {
    key: SigningKey,
    certificate: Certificate,
    fingerprint: String,
}

/// Never prints the private key.
impl std::fmt::Debug for AgencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyKey")
            .field("certificate", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl AgencyKey {
    /// A new key and a self-signed certificate naming the agency, valid from `now` for `years` — for a demo, a
    /// test, or an agency that has not yet received its certificate from a certification authority.
    pub fn self_signed(
        agency_code: &str,
        agency_name: &str,
        now: SystemTime,
        years: u32,
    ) -> Result<AgencyKey, KeyError> {
        let enc = |e: &dyn std::fmt::Display| KeyError::Encoding(e.to_string());
        let key = SigningKey::random(&mut rand_core::OsRng);
        let subject = name(&[
            (ID_C, "VN"),
            (ID_O, agency_name),
            (ID_CN, &format!("{agency_name} ({agency_code})")),
        ])
        .map_err(|e| enc(&e))?;
        let mut serial = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        let validity = Validity {
            not_before: Time::try_from(now).map_err(|e| enc(&e))?,
            not_after: Time::try_from(now + Duration::from_secs(u64::from(years) * 365 * 86_400))
                .map_err(|e| enc(&e))?,
        };
        let spki =
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(|e| enc(&e))?;
        let builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: subject.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::new(&serial).map_err(|e| enc(&e))?,
            validity,
            subject,
            spki,
            &key,
        )
        .map_err(|e| enc(&e))?;
        let certificate = builder.build::<DerSignature>().map_err(|e| enc(&e))?;
        let fingerprint = fingerprint(&certificate).map_err(|e| enc(&e))?;
        Ok(AgencyKey {
            key,
            certificate,
            fingerprint,
        })
    }

    /// The key and certificate as configured (PKCS#8 PEM and X.509 PEM); they must belong together.
    pub fn from_pem(key_pem: &str, certificate_pem: &str) -> Result<AgencyKey, KeyError> {
        let key =
            SigningKey::from_pkcs8_pem(key_pem).map_err(|e| KeyError::PrivateKey(e.to_string()))?;
        let certificate = Certificate::from_pem(certificate_pem)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        if public_key(&certificate).ok() != Some(*key.verifying_key()) {
            return Err(KeyError::Mismatch);
        }
        let fingerprint =
            fingerprint(&certificate).map_err(|e| KeyError::Certificate(e.to_string()))?;
        Ok(AgencyKey {
            key,
            certificate,
            fingerprint,
        })
    }

    /// The private key as PKCS#8 PEM (to keep in the keys folder, readable by the service only).
    pub fn key_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| KeyError::Encoding(e.to_string()))
    }

    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> Result<String, KeyError> {
        self.certificate
            .to_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encoding(e.to_string()))
    }

    /// Who signs: the certificate's subject.
    pub fn signer(&self) -> SignerName {
        signer_of(&self.certificate)
    }

    /// A detached CMS signature (DER) over `content`, signed at `at`: the digest of the content, its type and the
    /// signing time are the signed attributes; the certificate travels with it.
    pub fn sign_detached(&self, content: &[u8], at: SystemTime) -> Result<Vec<u8>, KeyError> {
        let enc = |e: der::Error| KeyError::Encoding(e.to_string());
        let digest = Sha256::digest(content);
        let attributes = SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(enc)?).map_err(enc)?,
            attribute(
                ID_SIGNING_TIME,
                Any::encode_from(&Time::try_from(at).map_err(enc)?).map_err(enc)?,
            )
            .map_err(enc)?,
            attribute(
                ID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest.to_vec()).map_err(enc)?).map_err(enc)?,
            )
            .map_err(enc)?,
        ])
        .map_err(enc)?;
        let signature: DerSignature = self.key.sign(&attributes.to_der().map_err(enc)?);
        let tbs = &self.certificate.tbs_certificate;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: algorithm(ID_SHA256),
            signed_attrs: Some(attributes),
            signature_algorithm: algorithm(ECDSA_WITH_SHA256),
            signature: OctetString::new(signature.as_bytes().to_vec()).map_err(enc)?,
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(ID_SHA256)]).map_err(enc)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(
                    self.certificate.clone(),
                )])
                .map_err(enc)?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
        };
        ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed).map_err(enc)?,
        }
        .to_der()
        .map_err(enc)
    }

    /// The SHA-256 fingerprint of the certificate (lowercase hex), to compare with the one a signature carries.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

/// Who a certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerName {
    pub common_name: String,
    pub organisation: String,
}

/// What a valid signature says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub signer: SignerName,
    /// The signing time the signer stated.
    pub signed_at: Option<SystemTime>,
    /// The SHA-256 fingerprint of the signer's certificate, to compare with the agency's own.
    pub fingerprint: String,
}

/// Checks that `signature` (a detached CMS signature, DER) signs exactly `content`, with the key of the certificate
/// it carries. Whether that certificate is the agency's is for the caller to compare ([`Verified::fingerprint`]).
pub fn verify_detached(content: &[u8], signature: &[u8]) -> Result<Verified, Mismatch> {
    let info = ContentInfo::from_der(signature).map_err(|_| Mismatch::Malformed)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(Mismatch::Malformed);
    }
    let signed: SignedData = info.content.decode_as().map_err(|_| Mismatch::Malformed)?;
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or(Mismatch::Malformed)?;
    if signer.digest_alg.oid != ID_SHA256 || signer.signature_algorithm.oid != ECDSA_WITH_SHA256 {
        return Err(Mismatch::Unsupported);
    }
    let SignerIdentifier::IssuerAndSerialNumber(id) = &signer.sid else {
        return Err(Mismatch::Unsupported);
    };
    let certificate = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|c| match c {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate.issuer == id.issuer
                    && c.tbs_certificate.serial_number == id.serial_number =>
            {
                Some(c)
            }
            _ => None,
        })
        .ok_or(Mismatch::Malformed)?;
    let attributes = signer.signed_attrs.as_ref().ok_or(Mismatch::Unsupported)?;
    let value = |oid: ObjectIdentifier| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let digest: OctetString = value(ID_MESSAGE_DIGEST)
        .ok_or(Mismatch::Malformed)?
        .decode_as()
        .map_err(|_| Mismatch::Malformed)?;
    let key = public_key(certificate).map_err(|_| Mismatch::Unsupported)?;
    let signature_value =
        DerSignature::try_from(signer.signature.as_bytes()).map_err(|_| Mismatch::Malformed)?;
    let signed_bytes = attributes.to_der().map_err(|_| Mismatch::Malformed)?;
    if key.verify(&signed_bytes, &signature_value).is_err() {
        return Err(Mismatch::BadSignature);
    }
    if digest.as_bytes() != &Sha256::digest(content)[..] {
        return Err(Mismatch::ContentChanged);
    }
    let signed_at = value(ID_SIGNING_TIME)
        .and_then(|v| v.to_der().ok())
        .and_then(|der| Time::from_der(&der).ok())
        .map(|t| t.to_system_time());
    Ok(Verified {
        signer: signer_of(certificate),
        signed_at,
        fingerprint: fingerprint(certificate).map_err(|_| Mismatch::Malformed)?,
    })
}

fn public_key(certificate: &Certificate) -> Result<VerifyingKey, p256::ecdsa::Error> {
    VerifyingKey::from_sec1_bytes(
        certificate
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
}

fn fingerprint(certificate: &Certificate) -> der::Result<String> {
    Ok(Sha256::digest(certificate.to_der()?)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn signer_of(certificate: &Certificate) -> SignerName {
    let subject = &certificate.tbs_certificate.subject;
    let find = |oid: ObjectIdentifier| {
        subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|a| a.oid == oid)
            .map(|a| text_of(&a.value))
            .unwrap_or_default()
    };
    SignerName {
        common_name: find(ID_CN),
        organisation: find(ID_O),
    }
}

/// A directory string as text (UTF8String, PrintableString and the like).
fn text_of(value: &Any) -> String {
    String::from_utf8_lossy(value.value()).into_owned()
}

fn name(parts: &[(ObjectIdentifier, &str)]) -> der::Result<Name> {
    let rdns = parts
        .iter()
        .map(|(oid, text)| {
            let value = Any::encode_from(&Utf8StringRef::new(text)?)?;
            let atv = AttributeTypeAndValue { oid: *oid, value };
            Ok(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?))
        })
        .collect::<der::Result<Vec<_>>>()?;
    Ok(RdnSequence(rdns))
}

fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AgencyKey {
        AgencyKey::self_signed("000.00.01.H01", "Sở Tư pháp", SystemTime::now(), 5).unwrap()
    }

    #[test]
    fn a_signature_verifies_for_the_untouched_file_only() {
        let key = key();
        let file = b"%PDF-1.7 ket qua giai quyet".to_vec();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let signature = key.sign_detached(&file, at).unwrap();
        let verified = verify_detached(&file, &signature).unwrap();
        assert_eq!(verified.signer.organisation, "Sở Tư pháp");
        assert_eq!(verified.signer.common_name, "Sở Tư pháp (000.00.01.H01)");
        assert_eq!(verified.signed_at, Some(at));
        assert_eq!(verified.fingerprint, key.fingerprint());

        let mut changed = file.clone();
        changed[3] ^= 1;
        assert_eq!(
            verify_detached(&changed, &signature),
            Err(Mismatch::ContentChanged)
        );
        assert_eq!(
            verify_detached(&file, b"not a signature"),
            Err(Mismatch::Malformed)
        );
    }

    #[test]
    fn a_tampered_signature_or_another_key_fails() {
        let key = key();
        let file = b"noi dung".to_vec();
        let mut signature = key.sign_detached(&file, SystemTime::now()).unwrap();
        // flip a bit of the digest attribute: the signature over the attributes no longer holds
        let digest = Sha256::digest(&file);
        let at = signature
            .windows(digest.len())
            .position(|w| w == &digest[..])
            .unwrap();
        signature[at] ^= 1;
        assert_eq!(
            verify_detached(&file, &signature),
            Err(Mismatch::BadSignature)
        );
        // another agency's signature verifies, but its fingerprint is not this agency's
        let other =
            AgencyKey::self_signed("000.00.02.H01", "Sở Y tế", SystemTime::now(), 5).unwrap();
        let theirs = other.sign_detached(&file, SystemTime::now()).unwrap();
        assert_ne!(
            verify_detached(&file, &theirs).unwrap().fingerprint,
            key.fingerprint()
        );
    }

    #[test]
    fn keys_round_trip_through_pem_and_must_belong_together() {
        let key = key();
        let again =
            AgencyKey::from_pem(&key.key_pem().unwrap(), &key.certificate_pem().unwrap()).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        let other = AgencyKey::self_signed("X", "Khác", SystemTime::now(), 1).unwrap();
        assert!(matches!(
            AgencyKey::from_pem(&other.key_pem().unwrap(), &key.certificate_pem().unwrap()),
            Err(KeyError::Mismatch)
        ));
        assert!(matches!(
            AgencyKey::from_pem("rác", &key.certificate_pem().unwrap()),
            Err(KeyError::PrivateKey(_))
        ));
    }
}
