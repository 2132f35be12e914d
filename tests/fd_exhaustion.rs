//! Running out of file descriptors (EMFILE) is an error value for the one
//! operation that needed a descriptor; the loop, its reactor and the
//! listener carry on and accept again once descriptors are freed.
//!
//! This file is its own test binary because it lowers RLIMIT_NOFILE for the
//! whole process; it holds a single test so nothing else runs beside it.

mod common;

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use common::event_loop;
use evloop::net::{TcpListener, TcpStream};

const PATIENCE: Duration = Duration::from_secs(30);

/// Lowers the soft RLIMIT_NOFILE while it lives; restores it on drop.
struct DescriptorLimit {
    original: libc::rlimit,
}

impl DescriptorLimit {
    fn lower_to(soft: libc::rlim_t) -> DescriptorLimit {
        let mut original = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `original` is a valid rlimit for getrlimit to fill in.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut original) };
        assert_eq!(got, 0, "getrlimit: {}", io::Error::last_os_error());
        let lowered = libc::rlimit {
            rlim_cur: soft.min(original.rlim_cur),
            rlim_max: original.rlim_max,
        };
        // SAFETY: `lowered` is a valid rlimit; only the soft limit shrinks.
        let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) };
        assert_eq!(set, 0, "setrlimit: {}", io::Error::last_os_error());
        DescriptorLimit { original }
    }
}

impl Drop for DescriptorLimit {
    fn drop(&mut self) {
        // SAFETY: restores the limit read in `lower_to`.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.original) };
    }
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(64)
}

fn is_emfile(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::EMFILE)
}

/// Opens files until the process hits EMFILE; returns them.
fn exhaust_descriptors() -> Vec<File> {
    let mut files = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(error) if is_emfile(&error) => return files,
            Err(error) => panic!("unexpected error while exhausting descriptors: {error}"),
        }
    }
}

#[derive(Debug)]
enum AcceptReport {
    Failed(io::Error),
    Accepted,
}

#[test]
fn a_listener_that_hits_emfile_keeps_running_and_accepts_once_descriptors_are_freed() {
    let lp = event_loop(2, "fdx");
    let listener = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();

    // A well-behaved server: on an accept error it reports, backs off a
    // little and tries again (the pending connection stays in the backlog).
    let (report_tx, report_rx) = mpsc::channel();
    let server = lp.handle().spawn(async move {
        loop {
            match listener.accept().await {
                Ok((mut stream, _)) => {
                    let _ = report_tx.send(AcceptReport::Accepted);
                    let mut buf = [0; 64];
                    let n = stream.read(&mut buf).await?;
                    stream.write_all(&buf[..n]).await?;
                    return Ok::<(), io::Error>(());
                }
                Err(error) => {
                    let _ = report_tx.send(AcceptReport::Failed(error));
                    evloop::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    });

    let limit = DescriptorLimit::lower_to((open_descriptors() + 32) as libc::rlim_t);
    let mut filler = exhaust_descriptors();
    // One descriptor for the client; none left for the server's accept.
    drop(filler.pop());
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();

    match report_rx.recv_timeout(PATIENCE).unwrap() {
        AcceptReport::Failed(error) => assert!(is_emfile(&error), "{error}"),
        AcceptReport::Accepted => panic!("accepted with no descriptor left"),
    }

    // While descriptors are exhausted, other operations that need one fail
    // with an error value, and the loop still runs tasks and timers.
    let connect_error = lp.run_until_complete(TcpStream::connect(addr)).unwrap_err();
    assert!(is_emfile(&connect_error), "{connect_error}");
    let bind_error = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap_err();
    assert!(is_emfile(&bind_error), "{bind_error}");
    let (fired_tx, fired_rx) = mpsc::channel();
    lp.handle()
        .call_later(Duration::from_millis(5), move || fired_tx.send(()).unwrap());
    fired_rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(
        lp.run_until_complete(lp.handle().spawn(async { 7 }))
            .unwrap(),
        7
    );

    drop(filler);
    // Failures reported before the descriptors came back, then the accept.
    while let AcceptReport::Failed(error) = report_rx.recv_timeout(PATIENCE).unwrap() {
        assert!(is_emfile(&error), "{error}");
    }
    client.write_all(b"back again").unwrap();
    let mut echoed = [0; 10];
    client.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"back again");
    lp.run_until_complete(server).unwrap().unwrap();
    drop(limit);
    lp.close();
}
