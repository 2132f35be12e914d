//! A thousand subprocesses in a row leave no file descriptor and no zombie
//! behind. One test in its own binary: it counts the whole process's open
//! descriptors and reaps with `waitpid(-1)`, which other tests running at
//! the same time would disturb.

use std::time::{Duration, Instant};

use evloop::process::{Command, Stdio};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// True when this process has no child left that exited without being
/// reaped. `waitpid(-1, WNOHANG)` is 0 when children still run and -1 with
/// ECHILD when there are none; a pid would be a zombie (now reaped here).
fn no_zombie() -> bool {
    let mut status = 0;
    // SAFETY: waitpid writes only to `status`, a live local.
    let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match reaped {
        0 => true,
        -1 => std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD),
        _ => false,
    }
}

#[test]
fn a_thousand_children_leave_no_fd_and_no_zombie() {
    let lp = evloop::EventLoop::new().unwrap();
    lp.run_until_complete(async {
        // Warm up: the loop's lazily made resources exist from here on.
        let mut first = Command::new("true")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        first.communicate(None).await.unwrap();
        let baseline = open_fds();

        for round in 0..1000 {
            let mut child = Command::new("true")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            if round % 2 == 0 {
                let output = child.communicate(None).await.unwrap();
                assert!(output.status.success());
            } else {
                assert!(child.wait().await.unwrap().success());
            }
        }
        assert_eq!(open_fds(), baseline, "descriptors leaked");
        assert!(no_zombie(), "a child was left a zombie");

        // Children dropped unwaited are reaped in the background.
        let pids: Vec<u32> = (0..20)
            .map(|_| {
                let child = Command::new("sleep")
                    .arg("60")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                child.id()
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        while pids
            .iter()
            .any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        {
            assert!(Instant::now() < deadline, "dropped children not reaped");
            evloop::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(
            open_fds(),
            baseline,
            "descriptors leaked by dropped children"
        );
        assert!(no_zombie(), "a dropped child was left a zombie");
    });
    lp.close();
}
