//! `--log FILE --log-format text|json`, the way runc writes it: one logrus-style line per event,
//! appended. Container engines read the last `error` entry of a JSON log to tell the user why
//! the runtime failed (containerd's runc shim, conmon).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// Where log lines go: a file, or nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    pub file: Option<PathBuf>,
    pub format: LogFormat,
}

impl Log {
    /// One log line for `level` and `msg` at `time`.
    pub fn line(&self, level: Level, msg: &str, time: SystemTime) -> String {
        let time = humantime::format_rfc3339_seconds(time).to_string();
        match self.format {
            LogFormat::Json => {
                let v = serde_json::json!({ "level": level.name(), "msg": msg, "time": time });
                format!("{v}\n")
            }
            LogFormat::Text => {
                let quoted = serde_json::Value::String(msg.to_owned()).to_string();
                format!("time=\"{time}\" level={} msg={quoted}\n", level.name())
            }
        }
    }

    /// Appends a line. A log that cannot be written must not turn a success into a failure;
    /// the problem goes to stderr instead.
    pub fn write(&self, level: Level, msg: &str) {
        let Some(path) = &self.file else { return };
        let line = self.line(level, msg, SystemTime::now());
        let res = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = res {
            eprintln!("proxmox-lxcri: cannot write log {}: {e}", path.display());
        }
    }

    pub fn error(&self, msg: &str) {
        self.write(Level::Error, msg);
    }

    pub fn info(&self, msg: &str) {
        self.write(Level::Info, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lines_as_runc_writes_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let json = Log {
            file: None,
            format: LogFormat::Json,
        };
        assert_eq!(
            json.line(Level::Error, "container \"x\" does not exist", t),
            "{\"level\":\"error\",\"msg\":\"container \\\"x\\\" does not exist\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
        );
        let text = Log {
            file: None,
            format: LogFormat::Text,
        };
        assert_eq!(
            text.line(Level::Warn, "a b", t),
            "time=\"2023-11-14T22:13:20Z\" level=warning msg=\"a b\"\n"
        );
    }

    #[test]
    fn appends_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let log = Log {
            file: Some(path.clone()),
            format: LogFormat::Json,
        };
        log.info("one");
        log.error("two");
        let text = std::fs::read_to_string(&path).unwrap();
        let levels: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["level"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(levels, ["info", "error"]);
    }
}
