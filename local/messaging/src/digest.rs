//! The digests SQS answers with (boto3 and the SDKs verify them) and the base64 of binary
//! message attributes on the JSON protocol.
//!
//! The message-attribute digest follows SQS's documented algorithm: attributes sorted by name;
//! for each, the name, the data type (each as a 4-byte big-endian length then UTF-8 bytes), one
//! transport byte (1 string, 2 binary), then the value (length-prefixed the same way); MD5 of
//! the whole.

use std::collections::BTreeMap;

use md5::{Digest, Md5};

use crate::queues::MessageAttribute;

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

fn push_prefixed(buf: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// `None` when there are no attributes (SQS then omits the field).
pub fn md5_of_attributes(attributes: &BTreeMap<String, MessageAttribute>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    for (name, attribute) in attributes {
        push_prefixed(&mut buf, name.as_bytes());
        push_prefixed(&mut buf, attribute.data_type.as_bytes());
        match &attribute.value {
            crate::queues::AttributeValue::String(s) => {
                buf.push(1);
                push_prefixed(&mut buf, s.as_bytes());
            }
            crate::queues::AttributeValue::Binary(b) => {
                buf.push(2);
                push_prefixed(&mut buf, b);
            }
        }
    }
    Some(md5_hex(&buf))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `None` when the text is not standard, padded base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - padding { 0 } else { value(*c)? };
            n = (n << 6) | v;
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::AttributeValue;

    #[test]
    fn body_digest_is_md5_hex() {
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_follows_the_sqs_algorithm() {
        // The digest moto (and SQS) give for these two attributes.
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "B".to_owned(),
            MessageAttribute {
                data_type: "Binary".into(),
                value: AttributeValue::Binary(vec![1, 2]),
            },
        );
        attributes.insert(
            "A".to_owned(),
            MessageAttribute {
                data_type: "String".into(),
                value: AttributeValue::String("v".into()),
            },
        );
        assert_eq!(
            md5_of_attributes(&attributes).as_deref(),
            Some("caccf54801d29cde233136d4abad82f1")
        );
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for (raw, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"\x01\x02", "AQI="),
        ] {
            assert_eq!(base64_encode(raw), text);
            assert_eq!(base64_decode(text).as_deref(), Some(raw));
        }
        assert_eq!(base64_decode("Zg="), None);
        assert_eq!(base64_decode("Z!=="), None);
        assert_eq!(base64_decode("Zg==Zg=="), None);
    }
}
