//! Subprocesses (asyncio's `create_subprocess_exec` and
//! `create_subprocess_shell`): a [`Command`] spawns a [`Child`] whose piped
//! stdin is a [`StreamWriter`] and whose piped stdout and stderr are
//! [`StreamReader`]s, the same types as a socket's.
//!
//! Every child is reaped, so none is left a zombie: waiting reaps it, and a
//! child dropped before it exited is waited for in the background (see
//! [`Child`]). The exit is noticed through a pidfd on Linux, through
//! `SIGCHLD` elsewhere; an exit that happens before anyone waits is not
//! lost.
//!
//! | asyncio                                             | evloop                                              |
//! |-----------------------------------------------------|-----------------------------------------------------|
//! | `await create_subprocess_exec(p, *args, stdout=PIPE)` | `Command::new(p).args(args).stdout(Stdio::piped()).spawn()` |
//! | `await create_subprocess_shell(cmd, ...)`           | `Command::shell(cmd).spawn()`                       |
//! | `proc.stdin` / `stdout` / `stderr`                  | `child.stdin` / `stdout` / `stderr`                 |
//! | `await proc.wait()`, `proc.returncode`              | `child.wait().await`, `child.returncode()`          |
//! | `await proc.communicate(input)`                     | `child.communicate(Some(input)).await`              |
//! | `proc.kill()` / `terminate()` / `send_signal(s)`    | `child.kill()` / `terminate()` / `send_signal(s)`   |
//! | `proc.pid`                                          | `child.id()`                                        |
//!
//! # Differences from asyncio
//!
//! - [`Command::kill_on_drop`] (off by default) kills a child when its
//!   [`Child`] is dropped; asyncio has no such option.
//! - A missing program is an [`io::ErrorKind::NotFound`] error value from
//!   [`Command::spawn`] (asyncio raises `FileNotFoundError`).
//!
//! # Examples
//!
//! ```
//! use evloop::process::{Command, Stdio};
//!
//! evloop::run(async {
//!     let mut child = Command::new("sh")
//!         .args(["-c", "echo one; echo two"])
//!         .stdout(Stdio::piped())
//!         .spawn()?;
//!     let stdout = child.stdout.as_mut().unwrap();
//!     assert_eq!(stdout.readline().await?, b"one\n");
//!     assert_eq!(stdout.readline().await?, b"two\n");
//!     assert!(child.wait().await?.success());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```

mod pipe;
mod reap;

use std::ffi::OsStr;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::os::raw::c_int;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::pin::pin;
use std::task::Poll;

pub use std::process::{ExitStatus, Output, Stdio};

use crate::net::{StreamReader, StreamWriter};
use crate::reactor;
use crate::runtime::Handle;
use crate::util::sys;
use reap::ExitWatch;

/// Builds and spawns a child process (the arguments of asyncio's
/// `create_subprocess_exec`). It wraps [`std::process::Command`]; reach the
/// rest of std's options through [`as_std_mut`](Command::as_std_mut).
///
/// Standard streams are inherited unless set with [`stdin`](Command::stdin),
/// [`stdout`](Command::stdout) or [`stderr`](Command::stderr).
///
/// # Examples
///
/// See the [module documentation](self).
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` when it has no
    /// slash), with no arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let error = evloop::process::Command::new("no-such-program-evloop").spawn().unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// A command that runs `command` with `/bin/sh -c` (asyncio's
    /// `create_subprocess_shell`).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let output = evloop::process::Command::shell("echo $((6 * 7))").output().await?;
    ///     assert_eq!(output.stdout, b"42\n");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shell(command: impl AsRef<OsStr>) -> Command {
        let mut shell = Command::new("/bin/sh");
        shell.arg("-c").arg(command);
        shell
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// See [`Command::shell`].
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let output = evloop::process::Command::shell("echo $GREETING")
    ///         .env("GREETING", "hi")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"hi\n");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// See [`Command::env`].
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment.
    ///
    /// # Examples
    ///
    /// See [`Command::env`].
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let output = evloop::process::Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(output.stdout, b"/\n");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin; with [`Stdio::piped`], [`Child::stdin`] is a
    /// [`StreamWriter`] to it.
    ///
    /// # Examples
    ///
    /// See [`Child::communicate`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// Sets the child's stdout; with [`Stdio::piped`], [`Child::stdout`] is
    /// a [`StreamReader`] of it.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's stderr; with [`Stdio::piped`], [`Child::stderr`] is
    /// a [`StreamReader`] of it.
    ///
    /// # Examples
    ///
    /// See [`Child::communicate`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// With `true`, dropping the [`Child`] before it was reaped kills it
    /// with `SIGKILL` (it is reaped in the background either way).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let child = evloop::process::Command::new("sleep")
    ///         .arg("60")
    ///         .kill_on_drop(true)
    ///         .spawn()?;
    ///     drop(child); // killed now, reaped by the loop
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The standard library's command, for the options this type does not
    /// repeat (`uid`, `process_group`, `pre_exec`...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    ///
    /// let mut command = evloop::process::Command::new("true");
    /// command.as_std_mut().process_group(0);
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child (asyncio's `create_subprocess_exec`). Its exit is
    /// watched by the current loop's reactor.
    ///
    /// Fails with the OS's error: [`io::ErrorKind::NotFound`] for a missing
    /// program, [`io::ErrorKind::PermissionDenied`] for one that is not
    /// executable; and with an error outside an event loop.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn spawn(&mut self) -> io::Result<Child> {
        let Some(handle) = Handle::try_current() else {
            return Err(io::Error::other(
                "Command::spawn must be called inside an evloop event loop",
            ));
        };
        reap::sweep_orphans();
        let mut child = self.std.spawn()?;
        match Attached::new(&handle, &mut child) {
            Ok(attached) => Ok(Child {
                stdin: attached.stdin,
                stdout: attached.stdout,
                stderr: attached.stderr,
                pid: child.id(),
                kill_on_drop: self.kill_on_drop,
                handle,
                inner: Some(Inner {
                    child,
                    watch: Some(attached.watch),
                    status: None,
                }),
            }),
            Err(error) => {
                // Without its exit watch or its pipes the child is of no
                // use: stop it and reap it here.
                let _ = child.kill();
                let _ = child.wait();
                Err(error)
            }
        }
    }

    /// Runs the command to its end with inherited streams and returns its
    /// exit status.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let status = evloop::process::Command::shell("exit 3").status().await?;
    ///     assert_eq!(status.code(), Some(3));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the command to its end and collects its stdout and stderr
    /// (piped unless set otherwise); stdin is inherited unless set.
    ///
    /// # Examples
    ///
    /// See [`Command::shell`].
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        if !self.stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        spawned?.communicate(None).await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("command", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

/// A running (or finished) child process, from [`Command::spawn`] (asyncio's
/// `Process`).
///
/// Dropping it does not stop the child (unless
/// [`Command::kill_on_drop`] was set), but the child is still reaped when
/// it exits: by a task of the loop, or, if that loop is closed by then, at
/// a later spawn.
///
/// # Examples
///
/// See the [module documentation](self).
pub struct Child {
    /// The writer to the child's stdin, when it was piped.
    pub stdin: Option<StreamWriter>,
    /// The reader of the child's stdout, when it was piped.
    pub stdout: Option<StreamReader>,
    /// The reader of the child's stderr, when it was piped.
    pub stderr: Option<StreamReader>,
    pid: u32,
    kill_on_drop: bool,
    handle: Handle,
    /// `None` only once handed to the reaper, in `drop`.
    inner: Option<Inner>,
}

/// The part of a child that waiting and reaping need.
struct Inner {
    child: std::process::Child,
    /// `None` once the child was reaped.
    watch: Option<ExitWatch>,
    status: Option<ExitStatus>,
}

/// What a spawned child gets from the loop: its exit watch and its pipes.
struct Attached {
    watch: ExitWatch,
    stdin: Option<StreamWriter>,
    stdout: Option<StreamReader>,
    stderr: Option<StreamReader>,
}

impl Attached {
    fn new(handle: &Handle, child: &mut std::process::Child) -> io::Result<Attached> {
        // The reactor of the current loop, which is `handle`'s.
        let reactor = &reactor::current();
        Ok(Attached {
            watch: ExitWatch::new(reactor, child.id())?,
            stdin: child
                .stdin
                .take()
                .map(|pipe| pipe::writer(handle, reactor, pipe))
                .transpose()?,
            stdout: child
                .stdout
                .take()
                .map(|pipe| pipe::reader(reactor, pipe.into()))
                .transpose()?,
            stderr: child
                .stderr
                .take()
                .map(|pipe| pipe::reader(reactor, pipe.into()))
                .transpose()?,
        })
    }
}

impl Child {
    fn inner(&mut self) -> &mut Inner {
        self.inner
            .as_mut()
            .expect("a Child always holds its process until dropped")
    }

    /// The child's process id (asyncio's `pid`); it stays the same after
    /// the child was reaped, when the OS may give it to another process.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let mut child = evloop::process::Command::new("true").spawn()?;
    ///     assert!(child.id() > 0);
    ///     child.wait().await?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Waits for the child to exit and returns its exit status (asyncio's
    /// `wait()`), reaping it. Returns at once once it was reaped.
    ///
    /// It does not close the child's stdin: a child that reads its stdin to
    /// the end needs [`communicate`](Child::communicate) or the writer's
    /// [`close`](StreamWriter::close) first, or it never exits. Likewise a
    /// child that fills a piped stdout nobody reads blocks.
    ///
    /// # Examples
    ///
    /// See [`Child::kill`].
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let inner = self.inner();
        poll_fn(|cx| inner.poll_wait(cx)).await
    }

    /// The exit status if the child has exited (reaping it), without
    /// waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let mut child = evloop::process::Command::new("sleep").arg("60").spawn()?;
    ///     assert!(child.try_wait()?.is_none());
    ///     child.kill()?;
    ///     child.wait().await?;
    ///     assert!(child.try_wait()?.is_some());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let inner = self.inner();
        if inner.status.is_none() {
            inner.status = inner.child.try_wait()?;
        }
        Ok(inner.status)
    }

    /// asyncio's `returncode`: `None` until the child was reaped, then its
    /// exit code, or minus the number of the signal that ended it.
    ///
    /// # Examples
    ///
    /// See [`Child::terminate`].
    pub fn returncode(&self) -> Option<i32> {
        let status = self.inner.as_ref()?.status?;
        status
            .code()
            .or_else(|| status.signal().map(|signal| -signal))
    }

    /// Sends `signal` to the child (asyncio's `send_signal`). Once the child
    /// was reaped this does nothing (its pid may belong to another process
    /// by then), as Python's `Popen.send_signal`.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for a number that is not
    /// a signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::SIGUSR1;
    ///
    /// evloop::run(async {
    ///     let mut child = evloop::process::Command::new("sleep").arg("60").spawn()?;
    ///     assert!(child.send_signal(-5).is_err());
    ///     child.send_signal(SIGUSR1)?;
    ///     assert_eq!(child.wait().await?.signal(), Some(SIGUSR1));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// # use std::os::unix::process::ExitStatusExt;
    /// ```
    pub fn send_signal(&mut self, signal: c_int) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.pid)
            .map_err(|_| io::Error::other("the child's pid is out of range"))?;
        // The pid is our child's, not yet reaped, so it names no other
        // process.
        sys::kill(pid, signal).map_err(|error| match error.raw_os_error() {
            Some(libc::EINVAL) => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{signal} is not a signal number"),
            ),
            _ => error,
        })
    }

    /// Sends `SIGTERM` to the child (asyncio's `terminate`).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let mut child = evloop::process::Command::new("sleep").arg("60").spawn()?;
    ///     child.terminate()?;
    ///     child.wait().await?;
    ///     assert_eq!(child.returncode(), Some(-libc::SIGTERM));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends `SIGKILL` to the child (asyncio's `kill`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// evloop::run(async {
    ///     let mut child = evloop::process::Command::new("sleep").arg("60").spawn()?;
    ///     child.kill()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Sends `input` to the child's stdin and closes it, reads its stdout
    /// and stderr to the end, and waits for it to exit (asyncio's
    /// `communicate`). The three go on at once, so a child that writes a
    /// lot before reading all its input does not deadlock.
    ///
    /// Streams that were not piped come back empty. `input` with a stdin
    /// that is not piped is an [`io::ErrorKind::InvalidInput`] error. A
    /// child that exits without reading all its input is not an error (the
    /// rest is dropped, as in asyncio).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::{Command, Stdio};
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "tr a-z A-Z; echo done >&2"])
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let output = child.communicate(Some(b"shout")).await?;
    ///     assert_eq!(output.stdout, b"SHOUT");
    ///     assert_eq!(output.stderr, b"done\n");
    ///     assert!(output.status.success());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<Output> {
        let stdin = self.stdin.take();
        match (&stdin, input) {
            (Some(writer), input) => {
                if let Some(input) = input {
                    writer.write(input);
                }
                writer.close();
            }
            (None, Some(input)) if !input.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "communicate was given input, but the child's stdin is not piped",
                ));
            }
            (None, _) => {}
        }
        let stdout = read_all(self.stdout.take());
        let stderr = read_all(self.stderr.take());
        let (stdout, stderr) = join(stdout, stderr).await;
        if let Some(writer) = stdin {
            match writer.wait_closed().await {
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) => {}
                result => result?,
            }
        }
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

impl Inner {
    fn poll_wait(&mut self, cx: &mut std::task::Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let Some(watch) = self.watch.as_mut() else {
            return Poll::Ready(Err(io::Error::other("the child has no exit watch")));
        };
        let status = std::task::ready!(reap::poll_exit(&mut self.child, watch, cx))?;
        self.status = Some(status);
        // The pidfd or the SIGCHLD listener is of no more use.
        self.watch = None;
        Poll::Ready(Ok(status))
    }
}

/// A child nobody waits for any more, being reaped by a task of its loop;
/// if the task is dropped first (its loop closed), the orphan list takes it.
struct Orphan(Option<Inner>);

impl Orphan {
    async fn reap(mut self) {
        if let Some(inner) = self.0.as_mut() {
            // An error here means the loop's reactor is gone: `drop` hands
            // the child to the orphan list.
            let _ = poll_fn(|cx| inner.poll_wait(cx)).await;
        }
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            if inner.status.is_none() {
                reap::adopt(inner.child);
            }
        }
    }
}

/// Reads `reader` to its end; an absent reader reads nothing.
async fn read_all(reader: Option<StreamReader>) -> io::Result<Vec<u8>> {
    match reader {
        Some(mut reader) => reader.read_to_end().await,
        None => Ok(Vec::new()),
    }
}

/// Runs two futures at once and returns both outputs.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut a_out = None;
    let mut b_out = None;
    poll_fn(|cx| {
        if a_out.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                a_out = Some(out);
            }
        }
        if b_out.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                b_out = Some(out);
            }
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                a_out = a;
                b_out = b;
                Poll::Pending
            }
        }
    })
    .await
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.kill_on_drop {
            // Does nothing once the child was reaped.
            let _ = self.kill();
        }
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if inner.status.is_some() || !matches!(inner.child.try_wait(), Ok(None)) {
            return;
        }
        reap::sweep_orphans();
        // Detached: it ends when the child exits. A closed loop drops it at
        // once, and the orphan list takes the child.
        drop(self.handle.spawn(Orphan(Some(inner)).reap()));
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("returncode", &self.returncode())
            .finish_non_exhaustive()
    }
}
