//! `--image REF`: skopeo's transport names (containers/image `transports/alltransports`):
//! `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG]`. As in
//! containers/image's `oci/internal.SplitPathAndImage` (non-Windows), the path ends at the
//! first `:` after the transport.

use std::fmt;
use std::path::PathBuf;

/// Where an image is and which one of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// An OCI image layout directory.
    Layout { dir: PathBuf, tag: Option<String> },
    /// An OCI image layout in a tar file, optionally gzip- or zstd-compressed.
    OciArchive { file: PathBuf, tag: Option<String> },
    /// `docker save` / `podman save` output; `name` picks one of several `RepoTags`.
    DockerArchive { file: PathBuf, name: Option<String> },
}

impl ImageRef {
    /// Parses a reference; the error says which transports exist.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let (transport, rest) = s.split_once(':').ok_or_else(|| {
            format!("`{s}`: name a transport: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE")
        })?;
        let split = |rest: &str| -> Result<(PathBuf, Option<String>), String> {
            let (path, tag) = match rest.split_once(':') {
                Some((p, t)) => (p, Some(t.to_owned())),
                None => (rest, None),
            };
            if path.is_empty() {
                return Err(format!("`{s}` names no path"));
            }
            if tag.as_deref() == Some("") {
                return Err(format!("`{s}` has an empty tag after `:`"));
            }
            Ok((PathBuf::from(path), tag))
        };
        match transport {
            "oci" => split(rest).map(|(dir, tag)| ImageRef::Layout { dir, tag }),
            "oci-archive" => split(rest).map(|(file, tag)| ImageRef::OciArchive { file, tag }),
            "docker-archive" => split(rest).map(|(file, name)| ImageRef::DockerArchive { file, name }),
            "docker" | "containers-storage" | "dir" | "docker-daemon" => Err(format!(
                "`{s}`: the {transport} transport is not read here; export the image first (`skopeo copy {s} oci-archive:image.tar`, or `podman save --format oci-archive`)"
            )),
            t => Err(format!(
                "`{s}`: unknown transport `{t}`; use oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE"
            )),
        }
    }
}

impl ImageRef {
    /// The file or directory the reference names.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ImageRef::Layout { dir, .. } => dir,
            ImageRef::OciArchive { file, .. } | ImageRef::DockerArchive { file, .. } => file,
        }
    }

    /// The same reference with its path absolute (against the current directory, without
    /// resolving links): what a plan records, since the plan may be applied from elsewhere.
    /// A path with `:` cannot be written back (the reference would split there).
    pub fn absolute(&self) -> Result<ImageRef, String> {
        let abs = std::path::absolute(self.path()).map_err(|e| {
            format!(
                "{}: cannot make the path absolute: {e}",
                self.path().display()
            )
        })?;
        if abs.to_str().is_none_or(|s| s.contains(':')) {
            return Err(format!(
                "{}: an image path in a plan must be UTF-8 without `:`",
                abs.display()
            ));
        }
        Ok(match self.clone() {
            ImageRef::Layout { tag, .. } => ImageRef::Layout { dir: abs, tag },
            ImageRef::OciArchive { tag, .. } => ImageRef::OciArchive { file: abs, tag },
            ImageRef::DockerArchive { name, .. } => ImageRef::DockerArchive { file: abs, name },
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (transport, path, tag) = match self {
            ImageRef::Layout { dir, tag } => ("oci", dir, tag),
            ImageRef::OciArchive { file, tag } => ("oci-archive", file, tag),
            ImageRef::DockerArchive { file, name } => ("docker-archive", file, name),
        };
        write!(f, "{transport}:{}", path.display())?;
        if let Some(t) = tag {
            write!(f, ":{t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_and_tags() {
        assert_eq!(
            ImageRef::parse("oci:/srv/img:v2").unwrap(),
            ImageRef::Layout {
                dir: "/srv/img".into(),
                tag: Some("v2".into())
            }
        );
        assert_eq!(
            ImageRef::parse("oci-archive:img.tar").unwrap(),
            ImageRef::OciArchive {
                file: "img.tar".into(),
                tag: None
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:x.tar:app:1.0").unwrap(),
            ImageRef::DockerArchive {
                file: "x.tar".into(),
                name: Some("app:1.0".into())
            }
        );
        assert_eq!(ImageRef::parse("oci:/a:b").unwrap().to_string(), "oci:/a:b");
    }

    #[test]
    fn absolute_keeps_the_tag_and_round_trips() {
        let cwd = std::env::current_dir().unwrap();
        let r = ImageRef::parse("oci-archive:img.tar:v1")
            .unwrap()
            .absolute()
            .unwrap();
        assert_eq!(r.path(), cwd.join("img.tar"));
        assert_eq!(ImageRef::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn bad_references_say_why() {
        assert!(ImageRef::parse("/srv/img")
            .unwrap_err()
            .contains("transport"));
        assert!(ImageRef::parse("oci:").unwrap_err().contains("no path"));
        assert!(ImageRef::parse("oci:/a:")
            .unwrap_err()
            .contains("empty tag"));
        assert!(ImageRef::parse("docker://alpine")
            .unwrap_err()
            .contains("skopeo copy"));
        assert!(ImageRef::parse("zip:x")
            .unwrap_err()
            .contains("unknown transport"));
    }
}
