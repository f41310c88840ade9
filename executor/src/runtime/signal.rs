//! Signal names and numbers as `kill` takes them: `TERM`, `SIGTERM`, `15`, `RTMIN+3`.

use std::fmt;

/// Linux signal numbers (x86_64, arm64 and most others; the architectures Proxmox VE runs on).
const NAMES: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// A signal number in 1..=64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signal {0:?}")]
pub struct SignalError(pub String);

impl Signal {
    pub const TERM: Signal = Signal(15);
    pub const KILL: Signal = Signal(9);

    pub fn number(self) -> i32 {
        self.0
    }

    /// Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN`, `RTMIN+2`, `SIGRTMAX-1`.
    pub fn parse(text: &str) -> Result<Signal, SignalError> {
        let err = || SignalError(text.to_owned());
        let t = text.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=RTMAX).contains(n))
                .map(Signal)
                .ok_or_else(err);
        }
        let upper = t.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some((_, n)) = NAMES.iter().find(|(s, _)| *s == name) {
            return Ok(Signal(*n));
        }
        let rt = |base: &str, sign: i32, start: i32| -> Option<i32> {
            let rest = name.strip_prefix(base)?;
            let off = if rest.is_empty() {
                0
            } else {
                rest.strip_prefix(if sign > 0 { '+' } else { '-' })?
                    .parse::<i32>()
                    .ok()?
            };
            Some(start + sign * off).filter(|n| (RTMIN..=RTMAX).contains(n))
        };
        rt("RTMIN", 1, RTMIN)
            .or_else(|| rt("RTMAX", -1, RTMAX))
            .map(Signal)
            .ok_or_else(err)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMES.iter().find(|(_, n)| *n == self.0) {
            Some((name, _)) => write!(f, "SIG{name}"),
            None => write!(f, "signal {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for (text, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("sigkill", 9),
            ("9", 9),
            ("KILL", 9),
            ("PWR", 30),
            ("RTMIN", 34),
            ("RTMIN+3", 37),
            ("SIGRTMAX-1", 63),
            ("64", 64),
        ] {
            assert_eq!(Signal::parse(text).map(Signal::number), Ok(n), "{text}");
        }
        for bad in [
            "", "0", "65", "-9", "FOO", "SIG", "RTMIN+40", "RTMAX+1", "9x",
        ] {
            assert!(Signal::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Signal::TERM.to_string(), "SIGTERM");
        assert_eq!(Signal(40).to_string(), "signal 40");
    }
}
