//! The echo server example run as a real process: SIGTERM and SIGINT stop
//! it gracefully (new connections refused, requests in flight completed,
//! exit status 0), and a connection still open at the deadline is cut.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};

mod common;

struct Server {
    process: Child,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl Server {
    fn start(extra_args: &[&str]) -> Server {
        let mut process = Command::new(common::example_binary("echo_server", &[]))
            .arg("127.0.0.1:0")
            .args(extra_args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(process.stdout.take().unwrap());
        let first = read_line(&mut stdout);
        let addr = first
            .trim()
            .strip_prefix("echo server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .parse()
            .unwrap();
        Server {
            process,
            stdout,
            addr,
        }
    }

    fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.process.id()).unwrap();
        // SAFETY: kill(2) touches no memory; the pid is our unreaped child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    fn next_line(&mut self) -> String {
        read_line(&mut self.stdout)
    }

    fn exit_code(mut self) -> Option<i32> {
        self.process.wait().unwrap().code()
    }
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line
}

fn echo(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut back = vec![0; message.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, message);
}

#[test]
fn sigterm_lets_the_request_in_flight_complete_and_exits_zero() {
    let mut server = Server::start(&[]);
    let mut client = common::connect(server.addr);
    echo(&mut client, b"before the signal\n");

    server.signal(libc::SIGTERM);
    let stopping = server.next_line();
    assert!(stopping.contains("SIGTERM"), "{stopping}");
    assert!(stopping.contains("1 connection(s)"), "{stopping}");

    // No longer accepting...
    let refused = TcpStream::connect(server.addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    // ...but the connection in flight is served to its end.
    echo(&mut client, b"after the signal\n");
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(client.read(&mut [0; 16]).unwrap(), 0);

    assert_eq!(server.next_line(), "echo server stopped\n");
    assert_eq!(server.exit_code(), Some(0));
}

#[test]
fn sigint_with_no_connection_exits_zero_at_once() {
    let mut server = Server::start(&[]);
    server.signal(libc::SIGINT);
    let stopping = server.next_line();
    assert!(stopping.contains("SIGINT"), "{stopping}");
    assert!(stopping.contains("0 connection(s)"), "{stopping}");
    assert_eq!(server.next_line(), "echo server stopped\n");
    assert_eq!(server.exit_code(), Some(0));
}

#[test]
fn a_connection_still_open_at_the_deadline_is_closed() {
    let mut server = Server::start(&["--grace", "0.2"]);
    let mut idle = common::connect(server.addr);
    echo(&mut idle, b"hello\n");
    server.signal(libc::SIGTERM);
    assert!(server.next_line().contains("1 connection(s)"));
    assert_eq!(
        server.next_line(),
        "closing 1 connection(s) still open at the deadline\n"
    );
    assert_eq!(server.next_line(), "echo server stopped\n");
    assert_eq!(server.exit_code(), Some(0));
    // The server's side of the idle connection was closed (end of stream,
    // or a reset), not left open until the read times out.
    match idle.read(&mut [0; 16]) {
        Ok(n) => assert_eq!(n, 0),
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset),
    }
}
