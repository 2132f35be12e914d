//! A hyper HTTP/1.1 hello-world server on evloop (`evloop::hyper`) against
//! the same server on tokio (hyper-util's `TokioIo` and `TokioTimer`),
//! `WORKERS` workers each, each in a process of its own; the load comes from
//! the `http_load` example (keep-alive, one request at a time per
//! connection), another process, with 1, 16 and 64 connections. Figures:
//! requests per second, the p50 and p99 latency the load generator saw, and
//! the server's CPU time (user + system, from `/proc/<pid>/stat`) per
//! request.
//!
//! Needs the `hyper` feature: `cargo bench --features hyper --bench compare -- http`.

use crate::measure::wanted;
use crate::table::Row;

/// Connection counts measured.
const CONNECTIONS: [usize; 3] = [1, 16, 64];

fn workloads(connections: usize) -> [(String, &'static str); 4] {
    let name = |what: &str| format!("HTTP hello, {connections} connections: {what}");
    [
        (name("requests"), "k req/s"),
        (name("p50 latency"), "µs"),
        (name("p99 latency"), "µs"),
        (name("server CPU"), "µs/req"),
    ]
}

pub fn rows() -> Vec<Row> {
    let wanted_any = CONNECTIONS
        .iter()
        .flat_map(|&c| workloads(c))
        .any(|(workload, _)| wanted(&workload));
    if !wanted_any {
        return Vec::new();
    }
    measured()
}

#[cfg(not(feature = "hyper"))]
fn measured() -> Vec<Row> {
    eprintln!("  skipped: the HTTP servers need `--features hyper`");
    Vec::new()
}

#[cfg(not(feature = "hyper"))]
pub fn serve_if_asked() -> bool {
    false
}

#[cfg(feature = "hyper")]
pub use with_hyper::serve_if_asked;

#[cfg(feature = "hyper")]
fn measured() -> Vec<Row> {
    with_hyper::measured()
}

#[cfg(feature = "hyper")]
mod with_hyper {
    use std::convert::Infallible;
    use std::io::{BufRead, BufReader, Read};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::{Request, Response, body::Incoming, service::service_fn};

    use super::*;
    use crate::measure::Section;
    use crate::runtimes::WORKERS;

    /// How long each run sends requests.
    const MEASURE_FOR: Duration = Duration::from_millis(1500);
    /// Which server a child process of the bench runs (`evloop` or `tokio`).
    const SERVER_ENV: &str = "EVLOOP_BENCH_HTTP_SERVER";

    async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
    }

    /// In a child process started by [`Server::start`]: runs the server
    /// named by `SERVER_ENV` and returns true (never, in fact: the process
    /// exits when its parent closes its standard input).
    pub fn serve_if_asked() -> bool {
        let Ok(kind) = std::env::var(SERVER_ENV) else {
            return false;
        };
        // The parent closes our standard input when it is done (or gone).
        std::thread::spawn(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0);
        });
        match kind.as_str() {
            "evloop" => serve_evloop(),
            "tokio" => serve_tokio(),
            other => panic!("{SERVER_ENV}={other}: expected evloop or tokio"),
        }
        true
    }

    fn serve_evloop() {
        let event_loop = evloop::EventLoop::builder()
            .worker_threads(WORKERS)
            .build()
            .unwrap();
        event_loop.run_until_complete(async {
            let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("{}", listener.local_addr().unwrap().port());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                stream.set_nodelay(true).unwrap();
                drop(evloop::spawn(evloop::hyper::serve_connection(
                    stream,
                    service_fn(hello),
                )));
            }
        })
    }

    fn serve_tokio() {
        use hyper_util::rt::{TokioIo, TokioTimer};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("{}", listener.local_addr().unwrap().port());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                stream.set_nodelay(true).unwrap();
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), service_fn(hello)),
                );
            }
        })
    }

    /// A server in a child process.
    struct Server {
        child: Child,
        port: u16,
    }

    impl Server {
        fn start(kind: &str) -> Server {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .env(SERVER_ENV, kind)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("the bench starts its server process");
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            let port = line.trim().parse().expect("the server prints its port");
            Server { child, port }
        }

        /// User + system CPU time of the server so far, in seconds.
        fn cpu_seconds(&self) -> f64 {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
                .expect("/proc/<pid>/stat is readable");
            // Fields after the command name, which is in parentheses:
            // state is field 3, utime 14 and stime 15.
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            let fields: Vec<&str> = after_name.split(' ').collect();
            let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
            // SAFETY: sysconf has no preconditions.
            let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
            ticks as f64 / per_second
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            drop(self.child.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Builds the load generator (quick when it is up to date).
    fn load_generator() -> PathBuf {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--example", "http_load"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the http_load example did not build");
        // The bench runs from target/release/deps/.
        let exe = std::env::current_exe().unwrap();
        exe.parent().unwrap().parent().unwrap().join("examples/http_load")
    }

    /// One load run: [seconds per request, p50, p99, server CPU seconds
    /// per request].
    fn run_load(load: &PathBuf, server: &Server, connections: usize) -> [f64; 4] {
        let cpu_before = server.cpu_seconds();
        let output = Command::new(load)
            .arg(format!("127.0.0.1:{}", server.port))
            .args(["--connections", &connections.to_string()])
            .args(["--seconds", &MEASURE_FOR.as_secs_f64().to_string()])
            .output()
            .expect("the load generator runs");
        let cpu = server.cpu_seconds() - cpu_before;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "http_load failed: {stdout}");
        let figure = |name: &str| -> f64 {
            stdout
                .lines()
                .last()
                .and_then(|line| {
                    line.split(' ')
                        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                })
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in http_load's output: {stdout}"))
        };
        let requests = figure("requests");
        [
            figure("seconds") / requests,
            figure("p50_us") * 1e-6,
            figure("p99_us") * 1e-6,
            cpu / requests,
        ]
    }

    pub fn measured() -> Vec<Row> {
        let load = load_generator();
        let on_evloop = Server::start("evloop");
        let on_tokio = Server::start("tokio");
        let mut section = Section::new();
        for connections in CONNECTIONS {
            section
                .figures(
                    workloads(connections),
                    |_| run_load(&load, &on_evloop, connections),
                    |_| run_load(&load, &on_tokio, connections),
                )
                .note(
                    "HTTP hello: hyper 1.x HTTP/1.1 servers in processes of their own, loaded by \
                     examples/http_load (keep-alive, 1 worker); server CPU from /proc/<pid>/stat",
                );
        }
        section.into_rows()
    }
}
