//! The host side of the init protocol, against an init played by this test (the real static
//! init runs against the real stand-in in tests/pct_init.rs).

use super::*;

/// Receives one byte and up to three descriptors, as the init does.
fn recv_fds(sock: &UnixStream) -> (u8, Vec<OwnedFd>) {
    let mut byte = 0u8;
    let mut iov = libc::iovec {
        iov_base: (&mut byte as *mut u8).cast(),
        iov_len: 1,
    };
    let mut control = [0u64; 8];
    // SAFETY: zeroed msghdr, then valid buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: as above.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    assert_eq!(n, 1, "{}", io::Error::last_os_error());
    let mut fds = Vec::new();
    // SAFETY: the kernel filled the control buffer.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if !c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS {
            let n = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
            let data = libc::CMSG_DATA(c).cast::<i32>();
            for i in 0..n {
                fds.push(OwnedFd::from_raw_fd(*data.add(i)));
            }
        }
    }
    (byte, fds)
}

#[test]
fn descriptors_cross_a_unix_socket_and_the_peer_pid_is_ours() {
    let (a, b) = UnixStream::pair().unwrap();
    let (r, w) = pipe().unwrap();
    send_fds(&a, b"F", &[w.as_raw_fd(), w.as_raw_fd(), r.as_raw_fd()]).unwrap();
    let (byte, fds) = recv_fds(&b);
    assert_eq!((byte, fds.len()), (b'F', 3));
    // The received write end reaches the original read end.
    File::from(fds[0].try_clone().unwrap())
        .write_all(b"through")
        .unwrap();
    drop((w, fds));
    let mut got = String::new();
    File::from(r).read_to_string(&mut got).unwrap();
    assert_eq!(got, "through");
    assert_eq!(peer_pid(&b).unwrap() as u32, std::process::id());
}

#[test]
fn prepare_makes_the_bound_directory_and_refuses_blanks() {
    let d = tempfile::tempdir().unwrap();
    let c = prepare(
        &d.path().join("engine"),
        &d.path().join("exec.fifo"),
        b"\x7fELF",
    )
    .unwrap();
    let meta = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(meta(&c.dir), 0o755);
    assert_eq!(meta(&c.dir.join("init")), 0o555);
    assert_eq!(meta(&c.dir.join("sock")), 0o666);
    assert_eq!(meta(&c.fifo), 0o600);
    assert_eq!(std::fs::read(c.dir.join("init")).unwrap(), b"\x7fELF");
    assert_eq!(
        mount_line(&c.dir).value,
        format!(
            "{} dev/.proxmox-lxcri none bind,ro,create=dir 0 0",
            c.dir.display()
        )
    );
    let blank = d.path().join("with blank");
    assert!(matches!(
        prepare(&blank, &d.path().join("f2"), b""),
        Err(EngineError::Refused(_))
    ));
    assert!(!blank.exists());
}

#[test]
fn release_takes_the_byte_once_the_writer_comes_and_times_out_without_one() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("exec.fifo");
    let c = CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = release(&fifo, Duration::from_millis(100)).unwrap_err();
    assert!(err.to_string().contains("did not take the start"), "{err}");
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&f2)
            .unwrap()
            .write_all(b"0")
            .unwrap();
    });
    release(&fifo, Duration::from_secs(5)).unwrap();
    writer.join().unwrap();
}

#[test]
fn wrap_init_prefixes_the_entrypoint_and_a_raw_init_cmd() {
    // The plan the translator makes of runc's default spec (a golden file).
    let snap = include_str!("../../../../golden/runc-spec/plan.json.snap");
    let json = snap.splitn(3, "---\n").nth(2).unwrap();
    let mut plan: Plan = serde_json::from_str(json).unwrap();
    let entrypoint = |plan: &Plan| {
        plan.steps.iter().find_map(|s| match &s.action {
            Action::PctCreate { argv } => argv
                .windows(2)
                .find(|w| w[0] == Arg::lit("--entrypoint"))
                .map(|w| w[1].clone()),
            _ => None,
        })
    };
    assert_eq!(entrypoint(&plan), Some(Arg::lit("sh")));
    wrap_init(&mut plan).unwrap();
    assert_eq!(
        entrypoint(&plan),
        Some(Arg::lit("/dev/.proxmox-lxcri/init sh"))
    );
    // A raw lxc.init.cmd (LXC takes the later one) is wrapped as well.
    for s in &mut plan.steps {
        if let Action::WriteConfigLines { lines } = &mut s.action {
            lines.push(ConfigLine {
                key: "lxc.init.cmd".into(),
                value: "/app --flag".into(),
            });
        }
    }
    wrap_init(&mut plan).unwrap();
    let raw = plan.steps.iter().find_map(|s| match &s.action {
        Action::WriteConfigLines { lines } => lines.iter().find(|l| l.key == "lxc.init.cmd"),
        _ => None,
    });
    assert_eq!(raw.unwrap().value, "/dev/.proxmox-lxcri/init /app --flag");
    // No entrypoint at all (a system container's own /sbin/init): refused.
    plan.steps.retain(|s| {
        !matches!(
            s.action,
            Action::PctCreate { .. } | Action::WriteConfigLines { .. }
        )
    });
    assert!(matches!(wrap_init(&mut plan), Err(EngineError::Refused(_))));
}
