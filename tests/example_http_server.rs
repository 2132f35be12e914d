//! The HTTP server example run as a real process: on SIGTERM it lets the
//! request in progress finish, answers it, and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// Sends one HTTP/1.1 request on `stream` and returns the status line and
/// the body of its response (which must carry a `content-length`).
fn request(stream: &mut TcpStream, method: &str, path: &str) -> (String, String) {
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status.trim().to_owned(), String::from_utf8(body).unwrap())
}

#[test]
fn sigterm_lets_the_request_in_progress_finish_and_exits_zero() {
    let mut process = Command::new(common::example_binary("http_server", &["hyper"]))
        .args(["127.0.0.1:0", "--workers", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(process.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .parse()
        .unwrap();

    // A request whose blocking job runs when the signal arrives.
    let in_progress = std::thread::spawn(move || {
        let mut stream = common::connect(addr);
        request(&mut stream, "GET", "/blocking?ms=500")
    });
    let mut watcher = common::connect(addr);
    let start = Instant::now();
    loop {
        let (_, stats) = request(&mut watcher, "GET", "/stats");
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        if stats["blocking_jobs"] == 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the blocking job never started: {stats}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(watcher);

    let pid = libc::pid_t::try_from(process.id()).unwrap();
    // SAFETY: kill(2) touches no memory; the pid is our unreaped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);

    let (status, _) = in_progress.join().unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped:"), "{rest}");
    assert_eq!(process.wait().unwrap().code(), Some(0));
}
