//! 32-byte Sui addresses and object ids, as they appear in event BCS.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

/// A Sui address: 32 raw bytes in BCS, `0x` + 64 hex digits in text (JSON).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 32]);

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            text.parse().map_err(D::Error::custom)
        } else {
            <[u8; 32]>::deserialize(d).map(Address)
        }
    }
}

/// A Sui object id (same layout as an address; Move's `ID`).
pub type ObjectId = Address;

impl Address {
    /// The zero address.
    pub const ZERO: Address = Address([0; 32]);

    /// Bytes of the address.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From a byte slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AddressError> {
        <[u8; 32]>::try_from(bytes)
            .map(Address)
            .map_err(|_| AddressError::Length(bytes.len()))
    }
}

/// Why text or bytes are not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not 32 bytes.
    #[error("an address is 32 bytes, got {0}")]
    Length(usize),
    /// Not hex.
    #[error("an address is 0x + hex digits: {0}")]
    Hex(String),
}

impl FromStr for Address {
    type Err = AddressError;

    /// Parses `0x` + up to 64 hex digits (short forms like `0x2` are left-padded, as Sui does).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if digits.is_empty() || digits.len() > 64 {
            return Err(AddressError::Hex(s.to_owned()));
        }
        let padded = format!("{digits:0>64}");
        let bytes = hex::decode(padded).map_err(|_| AddressError::Hex(s.to_owned()))?;
        Self::from_slice(&bytes)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_long_and_short_forms() {
        let two: Address = "0x2".parse().expect("short");
        assert_eq!(two.0[31], 2);
        assert_eq!(two.to_string(), format!("0x{}2", "0".repeat(63)));
        assert_eq!(two.to_string().parse::<Address>(), Ok(two));
        assert!("0xzz".parse::<Address>().is_err());
        assert!(format!("0x{}", "1".repeat(65)).parse::<Address>().is_err());
    }

    #[test]
    fn bcs_is_32_raw_bytes() {
        let a = Address([7; 32]);
        assert_eq!(bcs::to_bytes(&a).expect("bcs"), vec![7; 32]);
    }
}
