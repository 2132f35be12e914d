//! Subprocesses: piped streams, communicate, wait, kill and terminate, and
//! the errors of bad input.

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use evloop::process::{Command, Stdio};

/// The state letter of process `pid` in /proc (`Z` for a zombie), or `None`
/// once it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Waits (generously) until `pid`'s /proc state satisfies `done`.
async fn until_state(pid: u32, done: impl Fn(Option<char>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(proc_state(pid)) {
        assert!(
            Instant::now() < deadline,
            "process {pid} stuck in {:?}",
            proc_state(pid)
        );
        evloop::sleep(Duration::from_millis(2)).await;
    }
}

#[test]
fn stdout_is_read_line_by_line() {
    evloop::run(async {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo line $i; done"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.as_mut().unwrap();
        let mut lines = Vec::new();
        loop {
            let line = stdout.readline().await.unwrap();
            if line.is_empty() {
                break;
            }
            lines.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(lines, ["line 1\n", "line 2\n", "line 3\n"]);
        let status = child.wait().await.unwrap();
        assert!(status.success());
        assert_eq!(child.returncode(), Some(0));
    });
}

#[test]
fn communicate_moves_a_mebibyte_each_way_without_deadlock() {
    evloop::run(async {
        let input: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let mut child = Command::new("tee")
            .arg("/dev/stderr")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child.communicate(Some(&input)).await.unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout.len(), input.len());
        assert!(output.stdout == input);
        assert!(output.stderr == input);
    });
}

#[test]
fn kill_ends_a_sleeping_child_with_sigkill() {
    evloop::run(async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        assert_eq!(child.returncode(), None);
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(child.returncode(), Some(-libc::SIGKILL));
        // Reaped: signalling it again is a no-op, not a stray kill(2).
        child.kill().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap(), status);
    });
}

#[test]
fn terminate_ends_a_sleeping_child_with_sigterm() {
    evloop::run(async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));
        assert_eq!(child.returncode(), Some(-libc::SIGTERM));
    });
}

#[test]
fn an_exit_before_wait_is_not_lost() {
    evloop::run(async {
        let mut child = Command::shell("exit 7").spawn().unwrap();
        let pid = child.id();
        // The child has exited and is a zombie before anyone waits.
        until_state(pid, |state| state == Some('Z')).await;
        assert_eq!(child.wait().await.unwrap().code(), Some(7));
        assert_eq!(proc_state(pid), None, "reaped");
    });
}

#[test]
fn a_dropped_child_is_reaped_and_kill_on_drop_kills_it() {
    evloop::run(async {
        let short = Command::shell("exit 0").spawn().unwrap();
        let short_pid = short.id();
        drop(short);
        let long = Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let long_pid = long.id();
        drop(long);
        until_state(short_pid, |state| state.is_none()).await;
        until_state(long_pid, |state| state.is_none()).await;
    });
}

#[test]
fn writing_to_a_dead_childs_stdin_is_broken_pipe() {
    evloop::run(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        child.wait().await.unwrap();
        let stdin = child.stdin.take().unwrap();
        // The pipe's read end closes with the child, unless a child that
        // another test forked at that moment still holds a copy until its
        // exec closes it: then a write goes into the pipe's buffer, and a
        // later one meets the closed pipe.
        let error = evloop::wait_for(
            async {
                loop {
                    stdin.write(b"nobody reads this");
                    match stdin.drain().await {
                        Ok(()) => evloop::sleep(Duration::from_millis(5)).await,
                        Err(error) => break error,
                    }
                }
            },
            Duration::from_secs(10),
        )
        .await
        .expect("writing to the dead child's stdin never failed");
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn communicate_ignores_input_the_child_did_not_read() {
    evloop::run(async {
        let mut child = Command::shell("echo early")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child
            .communicate(Some(&vec![b'x'; 1024 * 1024]))
            .await
            .unwrap();
        assert_eq!(output.stdout, b"early\n");
        assert!(output.status.success());
    });
}

#[test]
fn output_and_status_run_to_the_end() {
    evloop::run(async {
        let output = Command::shell("echo out; echo err >&2; exit 3")
            .output()
            .await
            .unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.status.code(), Some(3));
        let status = Command::new("true").status().await.unwrap();
        assert!(status.success());
    });
}

#[test]
fn bad_input_is_answered_by_error_values() {
    evloop::run(async {
        let missing = Command::new("evloop-no-such-program").spawn().unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        let missing_path = Command::new("/nonexistent/dir/prog").spawn().unwrap_err();
        assert_eq!(missing_path.kind(), ErrorKind::NotFound);
        let plain_file =
            std::env::temp_dir().join(format!("evloop-not-executable-{}", std::process::id()));
        std::fs::write(&plain_file, b"not a program").unwrap();
        let not_executable = Command::new(&plain_file).spawn().unwrap_err();
        std::fs::remove_file(&plain_file).unwrap();
        assert_eq!(not_executable.kind(), ErrorKind::PermissionDenied);
        let no_dir = Command::new("true")
            .current_dir("/nonexistent/dir")
            .spawn()
            .unwrap_err();
        assert_eq!(no_dir.kind(), ErrorKind::NotFound);

        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        for bad in [-1, 0x7fff, 65] {
            let error = child.send_signal(bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        let unpiped = child.communicate(Some(b"input")).await.unwrap_err();
        assert_eq!(unpiped.kind(), ErrorKind::InvalidInput);
        child.kill().unwrap();
        child.wait().await.unwrap();
    });
    let outside = Command::new("true").spawn().unwrap_err();
    assert!(outside.to_string().contains("inside an evloop event loop"));
}
