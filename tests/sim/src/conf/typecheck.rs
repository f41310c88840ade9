//! Config.pm `check_type`: how a pct.conf value is checked when the file is read.
//!
//! This is looser than API validation: integers and numbers must be unsigned, booleans are
//! normalised to 0/1, formats are checked, but patterns, ranges and enums are not.

use crate::schema::{ObjectSchema, Type};
use crate::validate::check_format;

/// Returns the (possibly normalised) value, or the text Proxmox dies with.
pub fn check_type(confdesc: &ObjectSchema, key: &str, value: &str) -> Result<String, String> {
    let Some(prop) = confdesc.get(key) else {
        return Err(format!("unknown setting '{key}'\n"));
    };
    if value.contains(['\n', '\r']) {
        return Err("property contains a line feed\n".into());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match prop.ty {
        Type::Boolean => {
            let lower = value.to_ascii_lowercase();
            if value == "1" || matches!(lower.as_str(), "on" | "yes" | "true") {
                Ok("1".into())
            } else if value == "0" || matches!(lower.as_str(), "off" | "no" | "false") {
                Ok("0".into())
            } else {
                Err(format!("type check ('boolean') failed - got '{value}'\n"))
            }
        }
        Type::Integer => {
            if digits(value) {
                // `int($1)` drops leading zeros.
                let trimmed = value.trim_start_matches('0');
                Ok(if trimmed.is_empty() {
                    "0".into()
                } else {
                    trimmed.to_string()
                })
            } else {
                Err(format!("type check ('integer') failed - got '{value}'\n"))
            }
        }
        Type::Number => {
            let ok = match value.split_once('.') {
                Some((int, frac)) => digits(int) && digits(frac),
                None => digits(value),
            };
            if ok {
                Ok(value.to_string())
            } else {
                Err(format!("type check ('number') failed - got '{value}'\n"))
            }
        }
        Type::String => {
            if let Some(format) = &prop.format {
                check_format(format, value, None)?;
            }
            Ok(value.to_string())
        }
        _ => Err("internal error\n".into()),
    }
}
