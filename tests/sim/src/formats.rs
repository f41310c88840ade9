//! Named formats registered by pve-common, pve-storage, pve-access-control and pve-container.
//!
//! Each validator returns the message Proxmox dies with (including its trailing newline), which
//! the caller prefixes with "invalid format - ".

use std::sync::OnceLock;

use regex::Regex;

/// A format validation failure: the text of Proxmox's `die`.
pub type FormatResult = Result<(), String>;

/// `PVE::Tools::split_list`: NUL-separated if there is a NUL, else split on `[,;]` and
/// whitespace; empty fields are dropped.
pub fn split_list(text: &str) -> Vec<String> {
    if text.contains('\0') {
        let mut parts: Vec<String> = text.split('\0').map(str::to_string).collect();
        // Perl's split drops trailing empty fields.
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        return parts;
    }
    text.replace([',', ';'], " ")
        .split(|c: char| is_perl_space(c))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Perl's `\s` on byte strings.
pub fn is_perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// `parse_boolean`.
pub fn parse_boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// `parse_size`: `\d+(\.\d+)?([KMGT](iB)?)?` in bytes.
pub fn parse_size(v: &str) -> Option<u64> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| Regex::new(r"^(\d+(?:\.\d+)?)([KMGT](?:iB)?)?\n?\z").ok())
        .as_ref()?;
    let caps = re.captures(v)?;
    let number: f64 = caps.get(1)?.as_str().parse().ok()?;
    let factor: f64 = match caps.get(2).map(|m| m.as_str()) {
        None => 1.0,
        Some("K") | Some("KiB") => 1024.0,
        Some("M") | Some("MiB") => 1024.0 * 1024.0,
        Some("G") | Some("GiB") => 1024.0 * 1024.0 * 1024.0,
        Some("T") | Some("TiB") => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        Some(_) => return None,
    };
    let bytes = (number * factor).trunc();
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return None;
    }
    Some(bytes as u64)
}

/// `format_size`: the largest unit that divides the size exactly.
pub fn format_size(size: u64) -> String {
    let kb = size / 1024;
    if kb * 1024 != size {
        return size.to_string();
    }
    let mb = kb / 1024;
    if mb * 1024 != kb {
        return format!("{kb}K");
    }
    let gb = mb / 1024;
    if gb * 1024 != mb {
        return format!("{mb}M");
    }
    let tb = gb / 1024;
    if tb * 1024 != gb {
        return format!("{gb}G");
    }
    format!("{tb}T")
}

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

macro_rules! static_re {
    ($name:ident, $pattern:expr) => {
        fn $name() -> Option<&'static Regex> {
            static CELL: OnceLock<Option<Regex>> = OnceLock::new();
            re(&CELL, $pattern)
        }
    };
}

const IPV4_OCTET: &str = r"(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])";

fn ipv4_re() -> String {
    format!(r"(?:(?:{o}\.){{3}}{o})", o = IPV4_OCTET)
}

fn ipv6_re() -> String {
    let h16 = "(?:[0-9a-fA-F]{1,4})";
    let ls32 = format!("(?:(?:{}|{h16}:{h16}))", ipv4_re());
    let alts = [
        format!("(?:(?:(?:{h16}:){{6}}){ls32})"),
        format!("(?:(?:::(?:{h16}:){{5}}){ls32})"),
        format!("(?:(?:(?:{h16})?::(?:{h16}:){{4}}){ls32})"),
        format!("(?:(?:(?:(?:{h16}:){{0,1}}{h16})?::(?:{h16}:){{3}}){ls32})"),
        format!("(?:(?:(?:(?:{h16}:){{0,2}}{h16})?::(?:{h16}:){{2}}){ls32})"),
        format!("(?:(?:(?:(?:{h16}:){{0,3}}{h16})?::(?:{h16}:){{1}}){ls32})"),
        format!("(?:(?:(?:(?:{h16}:){{0,4}}{h16})?::){ls32})"),
        format!("(?:(?:(?:(?:{h16}:){{0,5}}{h16})?::){h16})"),
        format!("(?:(?:(?:(?:{h16}:){{0,6}}{h16})?::))"),
    ];
    format!("(?:{})", alts.join("|"))
}

fn ipv4_full() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(&format!(r"^{}\n?\z", ipv4_re())).ok())
        .as_ref()
}

fn ipv6_full() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(&format!(r"^{}\n?\z", ipv6_re())).ok())
        .as_ref()
}

fn cidr4() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(&format!(r"^{}/(\d+)\n?\z", ipv4_re())).ok())
        .as_ref()
}

fn cidr6() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(&format!(r"^{}/(\d+)\n?\z", ipv6_re())).ok())
        .as_ref()
}

static_re!(vmid_re, r"^[1-9][0-9]{2,8}\n?\z");
static_re!(
    node_re,
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\n?\z"
);
static_re!(id_re, r"(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]\n?\z");
static_re!(
    dns_re,
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\n?\z"
);
static_re!(tag_re, r"(?i)^[a-z0-9_][a-z0-9_\-+.]*\n?\z");
static_re!(configid_re, r"(?i)^[a-z][a-z0-9_-]+\n?\z");
static_re!(volid_re, r"(?i)^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)\n?\z");
static_re!(mac_re, r"(?i)^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}\n?\z");
static_re!(iface_re, r"(?i)^[a-z][a-z0-9_]{1,20}(?:[:.]\d+)?\n?\z");
static_re!(
    poolid_re,
    r"^[A-Za-z0-9.\-_]+(?:/[A-Za-z0-9.\-_]+){0,2}\n?\z"
);

fn matches(re: Option<&'static Regex>, v: &str) -> bool {
    re.is_some_and(|r| r.is_match(v))
}

/// `pve_verify_ipv4`.
pub fn is_ipv4(v: &str) -> bool {
    matches(ipv4_full(), v)
}

/// `pve_verify_ipv6`.
pub fn is_ipv6(v: &str) -> bool {
    matches(ipv6_full(), v)
}

fn cidr_ok(re: Option<&'static Regex>, v: &str, max: u32) -> bool {
    re.and_then(|r| r.captures(v))
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse::<u32>().ok())
        .is_some_and(|bits| bits > 7 && bits <= max)
}

/// `pve_verify_cidrv4`.
pub fn is_cidr4(v: &str) -> bool {
    cidr_ok(cidr4(), v, 32)
}

/// `pve_verify_cidrv6`.
pub fn is_cidr6(v: &str) -> bool {
    cidr_ok(cidr6(), v, 128)
}

/// `PVE::Storage::Plugin::parse_volume_id`.
pub fn parse_volume_id(volid: &str) -> Option<(String, String)> {
    let caps = volid_re()?.captures(volid)?;
    Some((
        caps.get(1)?.as_str().to_string(),
        caps.get(2)?.as_str().to_string(),
    ))
}

/// `pve_verify_iface`.
pub fn is_iface(v: &str) -> bool {
    matches(iface_re(), v)
}

/// `pve_parse_startup_order`: `[[order=]\d+] [,up=\d+] [,down=\d+]`; empty and "0" fail.
fn startup_order_ok(v: &str) -> bool {
    if v.is_empty() || v == "0" {
        return false;
    }
    v.split(',')
        .filter(|p| !p.chars().all(is_perl_space))
        .all(|p| {
            let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let p = p.strip_suffix('\n').unwrap_or(p);
            num(p.strip_prefix("order=").unwrap_or(p))
                || p.strip_prefix("up=").is_some_and(num)
                || p.strip_prefix("down=").is_some_and(num)
        })
}

/// Host time zones, as pve_verify_timezone reads them.
fn timezone_ok(tz: &str) -> bool {
    if tz == "UTC" {
        return true;
    }
    let Ok(text) = std::fs::read_to_string("/usr/share/zoneinfo/zone.tab") else {
        return false;
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split('\t').nth(2))
        .any(|zone| zone == tz)
}

/// `verify_lxc_mp_string`.
fn mp_string_ok(mp: &str) -> bool {
    let bad_inner = mp.contains("/./") || mp.contains("/../");
    let bad_end = mp.ends_with("/.") || mp.ends_with("/..");
    !(bad_inner || bad_end || mp.starts_with("../"))
}

/// `verify_lxc_dev_string`.
fn dev_string_ok(dev: &str) -> bool {
    let bad =
        dev.contains("/./") || dev.contains("/../") || dev.ends_with("/.") || dev.ends_with("/..");
    !bad && dev.starts_with("/dev/")
}

/// Validates one value against one registered (non-list) format.
fn check_single(name: &str, v: &str) -> FormatResult {
    let fail = |msg: String| Err(msg);
    match name {
        "string" | "regex" => Ok(()),
        "pve-vmid" => {
            if matches(vmid_re(), v) {
                Ok(())
            } else {
                fail("value does not look like a valid VM ID\n".into())
            }
        }
        "pve-node" => {
            if matches(node_re(), v) {
                Ok(())
            } else {
                fail("value does not look like a valid node name\n".into())
            }
        }
        "pve-storage-id" => {
            if v.chars().count() < 2 {
                fail(format!(
                    "storage ID '{v}' cannot be shorter than 2 characters\n"
                ))
            } else if !matches(id_re(), v) {
                fail(format!("storage ID '{v}' contains illegal characters\n"))
            } else {
                Ok(())
            }
        }
        "pve-configid" => {
            if matches(configid_re(), v) {
                Ok(())
            } else {
                fail(format!("invalid configuration ID '{v}'\n"))
            }
        }
        "dns-name" => {
            if matches(dns_re(), v) {
                Ok(())
            } else {
                fail("value does not look like a valid DNS name\n".into())
            }
        }
        "pve-tag" => {
            if matches(tag_re(), v) {
                Ok(())
            } else {
                fail("invalid characters in tag\n".into())
            }
        }
        "mac-addr" => {
            if matches(mac_re(), v) {
                Ok(())
            } else {
                fail("value does not look like a valid unicast MAC address\n".into())
            }
        }
        "ipv4" => {
            if is_ipv4(v) {
                Ok(())
            } else {
                fail("value does not look like a valid IPv4 address\n".into())
            }
        }
        "ipv6" => {
            if is_ipv6(v) {
                Ok(())
            } else {
                fail("value does not look like a valid IPv6 address\n".into())
            }
        }
        "ip" => {
            if is_ipv4(v) || is_ipv6(v) {
                Ok(())
            } else {
                fail("value does not look like a valid IP address\n".into())
            }
        }
        "pve-ipv4-config" => {
            if v == "dhcp" || v == "manual" || is_cidr4(v) {
                Ok(())
            } else {
                fail("value does not look like a valid ipv4 network configuration\n".into())
            }
        }
        "pve-ipv6-config" => {
            if v == "auto" || v == "dhcp" || v == "manual" || is_cidr6(v) {
                Ok(())
            } else {
                fail("value does not look like a valid ipv6 network configuration\n".into())
            }
        }
        "lxc-ip-with-ll-iface" => {
            if let Some((addr, iface)) = v.split_once('%') {
                if addr.starts_with("fe80:")
                    && !addr.contains('%')
                    && (is_ipv4(addr) || is_ipv6(addr))
                    && is_iface(iface)
                {
                    return Ok(());
                }
            }
            check_single("ip", v)
        }
        "disk-size" => {
            if parse_size(v).is_some() {
                Ok(())
            } else {
                fail(format!("value does not look like a valid disk size: {v}\n"))
            }
        }
        "pve-volume-id" => {
            if parse_volume_id(v).is_some() {
                Ok(())
            } else {
                fail(format!("unable to parse volume ID '{v}'\n"))
            }
        }
        "pve-lxc-mp-string" => {
            if mp_string_ok(v) {
                Ok(())
            } else {
                fail(format!("{v} contains illegal character sequences\n"))
            }
        }
        "pve-lxc-dev-string" => {
            if dev_string_ok(v) {
                Ok(())
            } else {
                fail(format!("{v} is not a valid device path\n"))
            }
        }
        "pve-startup-order" => {
            if startup_order_ok(v) {
                Ok(())
            } else {
                fail("unable to parse startup options\n".into())
            }
        }
        "pve-ct-timezone" => {
            if v == "host" || timezone_ok(v) {
                Ok(())
            } else {
                fail(format!("invalid time zone '{v}'\n"))
            }
        }
        "pve-poolid" => {
            if v.split('/').count() > 3 {
                fail(format!(
                    "pool name '{v}' nested too deeply (max levels = 3)\n"
                ))
            } else if !matches(poolid_re(), v) {
                fail(format!("pool name '{v}' contains invalid characters\n"))
            } else {
                Ok(())
            }
        }
        "pve-storage-content" => {
            const VALID: [&str; 7] = [
                "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
            ];
            if VALID.contains(&v) {
                Ok(())
            } else {
                fail(format!("invalid content type '{v}'\n"))
            }
        }
        other => fail(format!("undefined format '{other}'\n")),
    }
}

/// `check_format` for a named format, with the `-list` / `-opt` suffix handling.
pub fn check_named(format: &str, value: &str) -> FormatResult {
    if let Some(base) = format.strip_suffix("-list") {
        if is_registered(base) {
            return split_list(value)
                .iter()
                .try_for_each(|v| check_single(base, v));
        }
    }
    if let Some(base) = format.strip_suffix("-opt") {
        if is_registered(base) {
            return if value.is_empty() || value == "0" {
                Ok(())
            } else {
                check_single(base, value)
            };
        }
    }
    check_single(format, value)
}

fn is_registered(name: &str) -> bool {
    !matches!(check_single(name, ""), Err(ref m) if m.starts_with("undefined format"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_list_like_perl() {
        assert_eq!(split_list("a,b;c d"), vec!["a", "b", "c", "d"]);
        assert_eq!(split_list(" a,,b "), vec!["a", "b"]);
        assert_eq!(split_list("A=1\0B=2"), vec!["A=1", "B=2"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn sizes_round_trip_like_format_size() {
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("1.5G"), Some(1_610_612_736));
        assert_eq!(format_size(1_610_612_736), "1536M");
        assert_eq!(format_size(8 << 30), "8G");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(parse_size("8g"), None);
    }

    #[test]
    fn formats_refuse_with_proxmox_messages() {
        assert_eq!(
            check_named("pve-vmid", "99").unwrap_err(),
            "value does not look like a valid VM ID\n"
        );
        assert!(check_named("pve-vmid", "100").is_ok());
        assert!(check_named("dns-name", "a-b.example").is_ok());
        assert!(check_named("dns-name", "-ab").is_err());
        assert!(check_named("pve-tag-list", "a;b,c").is_ok());
        assert_eq!(
            check_named("pve-tag-list", "a;b!").unwrap_err(),
            "invalid characters in tag\n"
        );
        assert!(check_named("mac-addr", "BC:24:11:00:00:01").is_ok());
        assert!(check_named("mac-addr", "01:24:11:00:00:01").is_err());
        assert!(check_named("pve-ipv4-config", "10.0.0.2/24").is_ok());
        assert!(check_named("pve-ipv4-config", "10.0.0.2/5").is_err());
        assert!(check_named("pve-ipv4-config", "10.0.0.2").is_err());
        assert!(check_named("pve-ipv6-config", "fd00::2/64").is_ok());
        assert!(check_named("pve-ipv6-config", "auto").is_ok());
        assert!(check_named("ipv6", "fe80::1").is_ok());
        assert!(check_named("ipv6", "fe80:::1").is_err());
        assert!(check_named("lxc-ip-with-ll-iface-list", "1.1.1.1 fe80::1%eth0").is_ok());
        assert!(check_named("pve-lxc-mp-string", "/a/../b").is_err());
        assert!(check_named("pve-lxc-mp-string", "../b").is_err());
        assert!(check_named("pve-lxc-dev-string", "/dev/null").is_ok());
        assert!(check_named("pve-lxc-dev-string", "/tmp/x").is_err());
        assert!(check_named("pve-startup-order", "order=1,up=5").is_ok());
        assert!(check_named("pve-startup-order", "0").is_err());
        assert!(check_named("pve-configid-list", "memory,net0").is_ok());
        assert_eq!(
            check_named("pve-configid-list", "lxc.init.cmd").unwrap_err(),
            "invalid configuration ID 'lxc.init.cmd'\n"
        );
        assert_eq!(
            check_named("pve-storage-id", "l").unwrap_err(),
            "storage ID 'l' cannot be shorter than 2 characters\n"
        );
    }
}
