//! Keyed fingerprints of secret values.
//!
//! Values are compared by HMAC-SHA256 under a key drawn at random once per process, so a
//! fingerprint cannot be looked up in a rainbow table nor compared across runs. Only the
//! fingerprint ever leaves the place where a value was read.

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

/// HMAC-SHA256 under this process's key, the key already absorbed: each fingerprint clones
/// it instead of hashing the key's two padded blocks again (half the work for a short value).
fn keyed() -> &'static Hmac<Sha256> {
    static MAC: OnceLock<Hmac<Sha256>> = OnceLock::new();
    MAC.get_or_init(|| {
        let key: [u8; 32] = rand::random();
        Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
    })
}

impl Fingerprint {
    /// Fingerprint of `value` under this process's key.
    pub fn of(value: &[u8]) -> Self {
        let mut mac = keyed().clone();
        mac.update(value);
        Fingerprint(mac.finalize().into_bytes().into())
    }

    /// Short form for display: enough to tell versions apart, useless to an attacker.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fp:{}", self.short())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fp:{}", self.short())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = hex::decode(&s).map_err(serde::de::Error::custom)?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("fingerprint must be 32 bytes"))?;
        Ok(Fingerprint(arr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_equal_fingerprints_and_distinct_values_differ() {
        assert_eq!(Fingerprint::of(b"hunter2"), Fingerprint::of(b"hunter2"));
        assert_ne!(Fingerprint::of(b"hunter2"), Fingerprint::of(b"hunter3"));
    }

    #[test]
    fn fingerprint_is_keyed_not_a_plain_hash() {
        use sha2::Digest;
        let plain: [u8; 32] = Sha256::digest(b"hunter2").into();
        assert_ne!(Fingerprint::of(b"hunter2").0, plain);
        let text = format!(
            "{:?} {}",
            Fingerprint::of(b"hunter2"),
            Fingerprint::of(b"hunter2")
        );
        assert!(!text.contains("hunter2"));
    }
}
