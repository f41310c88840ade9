//! What the packing benchmarks share: a reproducible ~200 MB tree of mixed files, CPU time and
//! medians.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::time::Duration;

/// xorshift32: reproducible content without a dependency.
pub struct Rng(pub u32);

impl Rng {
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    pub fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 4);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

const WORDS: &[&str] = &[
    "config",
    "the",
    "container",
    "proxmox",
    "rootfs",
    "lib",
    "usr",
    "share",
    "error",
    "value",
    "return",
    "function",
    "int",
    "char",
    "static",
    "include",
    "define",
    "if",
    "else",
    "for",
    "while",
    "struct",
    "license",
    "copyright",
    "GNU",
    "version",
    "/etc/",
    "0x1f",
    "==",
    "{",
    "}",
];

pub fn text(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(n + 16);
    while s.len() < n {
        s.extend_from_slice(WORDS[rng.below(WORDS.len() as u32) as usize].as_bytes());
        s.push(if rng.below(10) == 0 { b'\n' } else { b' ' });
    }
    s.truncate(n);
    s
}

/// Binary with some structure: random runs mixed with repeated runs.
pub fn semi(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 4096);
    while v.len() < n {
        let run = 64 + rng.below(2048) as usize;
        if rng.below(3) == 0 {
            v.extend_from_slice(&rng.bytes(run));
        } else {
            let b = rng.below(256) as u8;
            v.extend(std::iter::repeat_n(b, run));
        }
    }
    v.truncate(n);
    v
}

pub fn generate(root: &Path) -> u64 {
    let mut rng = Rng(0x9e37_79b9);
    let mut total = 0u64;
    let mut put = |p: &Path, data: Vec<u8>| {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        total += data.len() as u64;
        fs::write(p, data).unwrap();
    };
    // ~40 MB of small text files in a nested tree.
    for i in 0..5000 {
        let n = 512 + rng.below(15 * 1024) as usize;
        let p = root.join(format!(
            "usr/share/doc/pkg{}/sub{}/file{i}.txt",
            i % 97,
            i % 7
        ));
        put(&p, text(&mut rng, n));
    }
    // ~90 MB of medium binaries: a third incompressible, the rest semi-compressible.
    for i in 0..300 {
        let n = 64 * 1024 + rng.below(512 * 1024) as usize;
        let p = root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so.1"));
        let data = if i % 3 == 0 {
            rng.bytes(n)
        } else {
            semi(&mut rng, n)
        };
        put(&p, data);
    }
    // ~70 MB of large files.
    put(&root.join("opt/app/blob.bin"), rng.bytes(24 << 20));
    put(&root.join("opt/app/data.db"), semi(&mut rng, 24 << 20));
    put(&root.join("var/log/big.log"), text(&mut rng, 22 << 20));
    for i in 0..200 {
        let link = root.join(format!("usr/bin/tool{i}"));
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(format!("../lib/x86_64-linux-gnu/lib{}.so.1", i % 300), link)
            .unwrap();
    }
    for i in 0..50 {
        fs::hard_link(
            root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so.1")),
            root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so")),
        )
        .unwrap();
    }
    total
}

/// User + system CPU time of this process (all threads) or of its waited-for children.
pub fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut u) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
