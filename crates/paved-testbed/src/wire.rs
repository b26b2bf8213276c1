//! What the stand-ins share on the wire: the answer one of them gives (status,
//! error code, JSON body), the region of ARNs when a request names none, and the
//! form and percent decoding of AWS query strings. A leaf: it imports no other
//! module of the crate, so the proxy, the classifier and every stand-in can use it.

use serde_json::Value;

/// Region used for ARNs when a request carries no SigV4 credential scope, and
/// for objects added from a test.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A stand-in's answer to one request. Each stand-in writes its own error shapes
/// as constructors on this type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The error code (`x-amzn-ErrorType`) of an error answer.
    pub error_type: Option<&'static str>,
    /// The JSON body.
    pub body: Value,
}

impl Answer {
    /// A 200 answer with `body`.
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: 200,
            error_type: None,
            body,
        }
    }
}

/// The first value of `name` in an `a=b&c=d` string, percent-decoded.
pub fn form_param(encoded: &str, name: &str) -> Option<String> {
    encoded.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(key) == name {
            Some(percent_decode(value))
        } else {
            None
        }
    })
}

/// Every `name=value` pair of an `a=b&c=d` string, percent-decoded, in order
/// (a pair without `=` has an empty value; empty pairs are skipped).
pub fn form_params(encoded: &str) -> Vec<(String, String)> {
    encoded
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (as space); invalid escapes are kept as is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
