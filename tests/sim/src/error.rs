//! Errors, rendered the way Proxmox's CLI prints them.
//!
//! Proxmox raises `PVE::Exception` objects (an optional HTTP-like code, a message, a map of
//! per-parameter errors) or plain `die` strings. Both end up on stderr and the CLI exits with
//! 255 (`exit(-1)` or Perl's `die`). [`PveException::render`] reproduces `PVE::Exception::stringify`.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

/// `PVE::Exception`: what Proxmox code raises and the CLI prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PveException {
    /// HTTP status code (400 for parameter errors, 403 for permission errors), if any.
    pub code: Option<u16>,
    /// The message; Proxmox messages end with a newline.
    pub msg: String,
    /// Per-parameter errors (`errors` hash). Proxmox prints them in hash order, which is random;
    /// the simulator prints them sorted so outputs are reproducible.
    pub errors: BTreeMap<String, String>,
    /// Command usage appended by the CLI handler to parameter exceptions.
    pub usage: Option<String>,
    /// Lines another layer printed on stderr before the exception (Getopt::Long's
    /// "Unknown option: foo").
    pub preamble: String,
}

impl PveException {
    /// A plain `die "...\n"`.
    pub fn die(msg: impl Into<String>) -> Self {
        let mut msg = msg.into();
        if !msg.ends_with('\n') {
            msg.push('\n');
        }
        Self {
            code: None,
            msg,
            errors: BTreeMap::new(),
            usage: None,
            preamble: String::new(),
        }
    }

    /// `raise_param_exc($errors)`: "400 Parameter verification failed." plus the errors.
    pub fn param(errors: BTreeMap<String, String>) -> Self {
        Self {
            code: Some(400),
            msg: "Parameter verification failed.\n".to_string(),
            errors,
            usage: None,
            preamble: String::new(),
        }
    }

    /// `raise_param_exc({ key => msg })`.
    pub fn param1(key: &str, msg: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(key.to_string(), msg.into());
        Self::param(errors)
    }

    /// `raise("...\n", code => HTTP_BAD_REQUEST)` as used by `get_options`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        let mut e = Self::die(msg);
        e.code = Some(400);
        e
    }

    /// `raise_perm_exc($what)`.
    pub fn permission(what: &str) -> Self {
        Self {
            code: Some(403),
            msg: format!("Permission check failed ({what})\n"),
            errors: BTreeMap::new(),
            usage: None,
            preamble: String::new(),
        }
    }

    /// `is_param_exc`: code 400, which makes the CLI handler append the usage line.
    pub fn is_param_exc(&self) -> bool {
        self.code == Some(400)
    }

    /// `PVE::Exception::stringify`.
    pub fn render(&self) -> String {
        let mut out = self.preamble.clone();
        match self.code {
            Some(code) => out.push_str(&format!("{code} {}", self.msg)),
            None => out.push_str(&self.msg),
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        for (key, msg) in &self.errors {
            out.push_str(key);
            out.push_str(": ");
            out.push_str(msg);
            out.push('\n');
        }
        if let Some(usage) = &self.usage {
            out.push_str(usage);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    /// How a failed worker task reports its error on the CLI: `TASK ERROR: <msg>` with newlines
    /// turned into spaces, printed to stderr without the prefix (`RESTEnvironment` tee_worker).
    pub fn task_error_line(&self) -> String {
        let text = self.render();
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.replace('\n', " ")
    }
}

impl fmt::Display for PveException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Everything that can go wrong in the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// An error Proxmox itself would raise, printed exactly as Proxmox prints it.
    #[error("{0}")]
    Pve(PveException),
    /// The simulator's own environment is unusable (no state root, missing tools, ...).
    #[error("pve-sim: {0}")]
    Setup(String),
    /// An I/O error on the simulator's state.
    #[error("pve-sim: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The vendored schema data could not be read.
    #[error("pve-sim: schema data: {0}")]
    Schema(String),
}

impl From<PveException> for SimError {
    fn from(e: PveException) -> Self {
        SimError::Pve(e)
    }
}

impl SimError {
    /// Shorthand for a Proxmox `die "...\n"`.
    pub fn die(msg: impl Into<String>) -> Self {
        SimError::Pve(PveException::die(msg))
    }

    /// Wraps an I/O error with what the simulator was doing.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        SimError::Io {
            context: context.into(),
            source,
        }
    }

    /// The text printed on stderr.
    pub fn render(&self) -> String {
        match self {
            SimError::Pve(e) => e.render(),
            other => format!("{other}\n"),
        }
    }

    /// The single line a failed worker task prints.
    pub fn task_error_line(&self) -> String {
        match self {
            SimError::Pve(e) => e.task_error_line(),
            other => other.to_string().replace('\n', " "),
        }
    }
}

/// Result alias used throughout the crate.
pub type SimResult<T> = Result<T, SimError>;
