//! `Config.User` → `process.user`, by image-spec `conversion.md` ("Parsed Fields"):
//! numeric ids verbatim, names resolved in the image's own `/etc/passwd` and `/etc/group`,
//! supplementary groups only for a user given by name without a group.

use super::accounts::Accounts;

/// `process.user` and the home directory a resolved `Config.User` gives.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Resolved {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// The home of a user the image's passwd does not list (numeric ids): `/`, as runc leaves it
/// (libcontainer/user: a user not found keeps `Home: "/"`).
const NO_HOME: &str = "/";

/// Resolves `user`, `uid`, `user:group`, `uid:gid`, `uid:group` or `user:gid`; empty is root,
/// the implementation-defined default Docker, podman and runc share. Errors are the message
/// of an `image/unknown-user` finding.
pub(super) fn resolve(text: &str, accounts: &Accounts) -> Result<Resolved, String> {
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let (uid, primary, name, home) = if user.is_empty() {
        match accounts.user_with_uid(0) {
            Some(root) => (0, root.gid, Some(root.name.as_str()), root.home.clone()),
            None => (0, 0, None, "/root".to_owned()),
        }
    } else if let Ok(uid) = user.parse::<u32>() {
        // Numeric: verbatim; the passwd entry (if any) gives only the primary group and home.
        match accounts.user_with_uid(uid) {
            Some(u) => (uid, u.gid, None, u.home.clone()),
            None => (uid, 0, None, NO_HOME.to_owned()),
        }
    } else {
        let u = accounts.user_named(user).ok_or_else(|| {
            not_found(
                format!("user `{user}`"),
                "/etc/passwd",
                accounts.passwd_note.as_deref(),
            )
        })?;
        (u.uid, u.gid, Some(user), u.home.clone())
    };
    let gid = match group {
        None => primary,
        Some("") => return Err(format!("`{text}` names an empty group")),
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                accounts
                    .group_named(g)
                    .ok_or_else(|| {
                        not_found(
                            format!("group `{g}`"),
                            "/etc/group",
                            accounts.group_note.as_deref(),
                        )
                    })?
                    .gid
            }
        },
    };
    // "The converter SHOULD NOT modify additionalGids if the value of user in Config.User is
    // numeric or if Config.User specifies a group."
    let additional_gids = match (name, group) {
        (Some(name), None) if !user.is_empty() => accounts.supplementary_gids(name, gid),
        _ => Vec::new(),
    };
    Ok(Resolved {
        uid,
        gid,
        additional_gids,
        home,
    })
}

/// The message of a name not found: when the file itself was not read (a link, too large),
/// that is what is wrong, not the name.
fn not_found(what: String, file: &str, note: Option<&str>) -> String {
    match note {
        Some(note) => format!(
            "{what} cannot be resolved: the image's {file} {note}, so no account of it was read"
        ),
        None => format!("{what} is not in the image's {file}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        Accounts::parse(
            Some(b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
            Some(b"root:x:0:\napp:x:1000:\nweb:x:33:app\n"),
        )
    }

    fn ids(text: &str) -> (u32, u32, Vec<u32>) {
        let r = resolve(text, &accounts()).unwrap();
        (r.uid, r.gid, r.additional_gids)
    }

    #[test]
    fn every_form_of_user() {
        assert_eq!(ids(""), (0, 0, vec![]));
        assert_eq!(ids("app"), (1000, 1000, vec![33]));
        assert_eq!(
            ids("app:web"),
            (1000, 33, vec![]),
            "a group given: no supplementary ones"
        );
        assert_eq!(
            ids("1000"),
            (1000, 1000, vec![]),
            "numeric: no supplementary groups"
        );
        assert_eq!(
            ids("1234"),
            (1234, 0, vec![]),
            "numeric and unknown is fine"
        );
        assert_eq!(ids("1000:5"), (1000, 5, vec![]));
        assert_eq!(ids("1000:web"), (1000, 33, vec![]));
        assert_eq!(ids("app:7"), (1000, 7, vec![]));
    }

    #[test]
    fn home_comes_from_passwd() {
        assert_eq!(resolve("app", &accounts()).unwrap().home, "/home/app");
        assert_eq!(resolve("", &accounts()).unwrap().home, "/root");
        assert_eq!(resolve("4321", &accounts()).unwrap().home, "/");
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(resolve("nobody", &accounts())
            .unwrap_err()
            .contains("`nobody`"));
        assert!(resolve("app:nogroup", &accounts())
            .unwrap_err()
            .contains("`nogroup`"));
        assert!(resolve("app:", &accounts()).is_err());
    }

    #[test]
    fn a_file_that_was_not_read_is_named_instead_of_the_user() {
        let a = Accounts::default().with_notes(
            Some("is a symbolic link to ../usr/lib/passwd, which is not followed"),
            Some("is 5242880 bytes, more than the 4 MiB read"),
        );
        let err = resolve("app", &a).unwrap_err();
        assert!(
            err.contains("/etc/passwd is a symbolic link to ../usr/lib/passwd"),
            "{err}"
        );
        let err = resolve("0:web", &a).unwrap_err();
        assert!(err.contains("/etc/group is 5242880 bytes"), "{err}");
    }
}
