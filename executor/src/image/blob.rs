//! Content-addressed reads: every byte of an image is checked against the digest and size
//! that named it (image-spec `descriptor.md`: "the content SHOULD be verified against this
//! digest"; here it must be), and a blob that is larger than its descriptor says is cut off
//! at the size, not read on.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// A `sha256:<64 lower-case hex>` digest; other algorithms are refused by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest(String);

impl Digest {
    /// Parses a digest as image-spec `descriptor.md` writes it; only sha256 is taken (the
    /// registered algorithm every image tool writes; sha512 images are refused, not skipped).
    pub fn parse(s: &str) -> Result<Digest, String> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(format!("`{s}` is not a digest (`sha256:<hex>`)"));
        };
        if alg != "sha256" {
            return Err(format!(
                "`{s}`: digest algorithm `{alg}` is not supported (sha256 only)"
            ));
        }
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "`{s}` is not a sha256 digest (64 lower-case hex digits)"
            ));
        }
        Ok(Digest(s.to_owned()))
    }

    /// The digest of these bytes.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(format!("sha256:{}", hex(&Sha256::digest(bytes))))
    }

    /// The hex part: the blob's file name under `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, h)| h)
    }

    /// The whole digest, `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `inner` and fails at the end unless exactly `size` bytes with digest `digest` came
/// (or, with no size, any size with that digest: a docker-archive's layers have none).
pub struct Verified<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    size: Option<u64>,
    digest: Digest,
    what: String,
    checked: bool,
}

impl<R: Read> Verified<R> {
    /// `what` names the blob in errors (`layer sha256:…`).
    pub fn new(inner: R, digest: Digest, size: Option<u64>, what: String) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            read: 0,
            size,
            digest,
            what,
            checked: false,
        }
    }

    /// Reads whatever is left and checks it all.
    pub fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(())
    }

    fn check(&mut self) -> io::Result<()> {
        if self.checked {
            return Ok(());
        }
        self.checked = true;
        if let Some(size) = self.size.filter(|s| *s != self.read) {
            return Err(invalid(format!(
                "{} is {} bytes, its descriptor says {size}",
                self.what, self.read
            )));
        }
        let got = format!("sha256:{}", hex(&self.hasher.clone().finalize()));
        if got != self.digest.as_str() {
            return Err(invalid(format!(
                "{} does not match its digest {} (its content is {got})",
                self.what, self.digest
            )));
        }
        Ok(())
    }
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never more than the descriptor's size (plus one byte, to see that there is more).
        let room = match self.size {
            Some(size) => usize::try_from(size.saturating_add(1).saturating_sub(self.read))
                .unwrap_or(usize::MAX)
                .min(buf.len()),
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..room])?;
        if n == 0 {
            self.check()?;
            return Ok(0);
        }
        self.read += n as u64;
        if self.size.is_some_and(|s| self.read > s) {
            return Err(invalid(format!(
                "{} is larger than its descriptor says",
                self.what
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

pub(super) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads a whole small blob (manifest, index, config), verified, at most `limit` bytes.
pub fn read_small(
    r: impl Read,
    digest: &Digest,
    size: u64,
    limit: u64,
    what: &str,
) -> io::Result<Vec<u8>> {
    if size > limit {
        return Err(invalid(format!(
            "{what} {digest} is {size} bytes; more than the {limit} a {what} may have here"
        )));
    }
    let mut v = Verified::new(r, digest.clone(), Some(size), format!("{what} {digest}"));
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    v.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn digests_parse_strictly() {
        assert!(Digest::parse(HELLO).is_ok());
        assert!(Digest::parse(&HELLO.to_uppercase().replace("SHA256", "sha256")).is_err());
        assert!(Digest::parse("sha512:abcd").unwrap_err().contains("sha512"));
        assert!(Digest::parse("sha256:../../etc/passwd").is_err());
        assert!(Digest::parse("hello").is_err());
        assert_eq!(Digest::of(b"hello").as_str(), HELLO);
    }

    #[test]
    fn the_right_bytes_pass() {
        let d = Digest::parse(HELLO).unwrap();
        assert_eq!(
            read_small(&b"hello"[..], &d, 5, 100, "config").unwrap(),
            b"hello"
        );
    }

    #[test]
    fn wrong_bytes_size_or_length_fail() {
        let d = Digest::parse(HELLO).unwrap();
        let e = read_small(&b"hellx"[..], &d, 5, 100, "config").unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
        let e = read_small(&b"hello!"[..], &d, 5, 100, "config").unwrap_err();
        assert!(e.to_string().contains("larger"), "{e}");
        let e = read_small(&b"hell"[..], &d, 5, 100, "config").unwrap_err();
        assert!(e.to_string().contains("4 bytes"), "{e}");
        let e = read_small(&b"hello"[..], &d, 5, 4, "config").unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}
