//! `/etc/passwd` and `/etc/group` of an image, read from the bytes the caller found in its
//! layers (no chroot, no NSS): what `Config.User` names is resolved in the image's own context,
//! as image-spec's conversion.md asks ("parsing `/etc/passwd` from the extracted container's
//! root filesystem").
//!
//! The format is the one glibc's `files` NSS module reads (`nss/nss_files/files-pwd.c`): one
//! entry per line, `:`-separated; lines that do not parse are skipped, as glibc skips them, and
//! the first entry for a name or id wins.

/// One `/etc/passwd` entry: the fields conversion needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The numeric user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The home directory (`HOME` when the image's `Env` does not set it).
    pub home: String,
}

/// One `/etc/group` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group name.
    pub name: String,
    /// The numeric group id.
    pub gid: u32,
    /// The user names listed as members (supplementary groups).
    pub members: Vec<String>,
}

/// The accounts of an image: empty when the image has no such file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    /// `/etc/passwd`, in file order.
    pub users: Vec<User>,
    /// `/etc/group`, in file order.
    pub groups: Vec<Group>,
    /// What the image has at `/etc/passwd` when it is not a file whose bytes were read
    /// (`is a symbolic link to …`, `is … bytes, more than …`): said in an unknown-user
    /// finding, which would otherwise blame the user name.
    pub passwd_note: Option<String>,
    /// The same for `/etc/group`.
    pub group_note: Option<String>,
}

impl Accounts {
    /// Reads the two files (either may be absent); bytes that are not UTF-8 are read lossily,
    /// since a name with such bytes can only match a `Config.User` with the same bytes.
    pub fn parse(passwd: Option<&[u8]>, group: Option<&[u8]>) -> Accounts {
        let users = passwd
            .map(|b| lines(b).filter_map(parse_user).collect())
            .unwrap_or_default();
        let groups = group
            .map(|b| lines(b).filter_map(parse_group).collect())
            .unwrap_or_default();
        Accounts {
            users,
            groups,
            ..Accounts::default()
        }
    }

    /// The same accounts with what the image has at `/etc/passwd` and `/etc/group` instead
    /// of a readable file (see [`Accounts::passwd_note`]).
    pub fn with_notes(mut self, passwd: Option<&str>, group: Option<&str>) -> Accounts {
        self.passwd_note = passwd.map(str::to_owned);
        self.group_note = group.map(str::to_owned);
        self
    }

    /// The first user with this name.
    pub fn user_named(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The first user with this id.
    pub fn user_with_uid(&self, uid: u32) -> Option<&User> {
        self.users.iter().find(|u| u.uid == uid)
    }

    /// The first group with this name.
    pub fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The ids of the groups that list `user` as a member, without `primary`, in file order
    /// and without repeats (what `initgroups(3)` gives a process).
    pub fn supplementary_gids(&self, user: &str, primary: u32) -> Vec<u32> {
        let mut gids = Vec::new();
        for g in &self.groups {
            if g.gid != primary && !gids.contains(&g.gid) && g.members.iter().any(|m| m == user) {
                gids.push(g.gid);
            }
        }
        gids
    }
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn parse_user(line: String) -> Option<User> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 || f[0].is_empty() {
        return None;
    }
    Some(User {
        name: f[0].to_owned(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        home: f[5].to_owned(),
    })
}

fn parse_group(line: String) -> Option<Group> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 4 || f[0].is_empty() {
        return None;
    }
    Some(Group {
        name: f[0].to_owned(),
        gid: f[2].parse().ok()?,
        members: f[3]
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n# a comment\nbroken line\nwww-data:x:33:33:www:/var/www:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\napp:x:2000:2000::/dup:/bin/sh\n";
    const GROUP: &[u8] = b"root:x:0:\nwww-data:x:33:app\napp:x:1000:\naudio:x:29:app,www-data\nbad:x:notanumber:app\n";

    #[test]
    fn first_entry_wins_and_broken_lines_are_skipped() {
        let a = Accounts::parse(Some(PASSWD), Some(GROUP));
        assert_eq!(a.users.len(), 4);
        assert_eq!(a.user_named("app").unwrap().uid, 1000);
        assert_eq!(a.user_with_uid(33).unwrap().home, "/var/www");
        assert_eq!(a.groups.len(), 4, "the group with a bad gid is skipped");
    }

    #[test]
    fn supplementary_groups_leave_out_the_primary_one() {
        let a = Accounts::parse(Some(PASSWD), Some(GROUP));
        assert_eq!(a.supplementary_gids("app", 1000), vec![33, 29]);
        assert_eq!(a.supplementary_gids("www-data", 33), vec![29]);
        assert!(a.supplementary_gids("nobody", 0).is_empty());
    }

    #[test]
    fn missing_files_give_no_accounts() {
        assert_eq!(Accounts::parse(None, None), Accounts::default());
    }
}
