//! Signals sent to this very process reach `Signals`, `ctrl_c` and loop
//! handlers.
//!
//! Signals are process-wide and the tests of this file run on parallel
//! threads, so each test holds `serial()` for its whole body, and every
//! signal is raised only after evloop catches it (a SIGINT or SIGTERM with
//! no handler would end the test process).

use std::future::{Future, poll_fn};
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use evloop::signal::{self, SIGHUP, SIGINT, SIGKILL, SIGSTOP, SIGTERM, SIGUSR1, SIGUSR2, Signals};
use evloop::{EventLoop, Handle};

fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn raise(signal: i32) {
    // SAFETY: raise(3) has no memory-safety preconditions; every caller
    // catches `signal` before raising it.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

#[test]
fn a_raised_signal_reaches_a_signals_stream() {
    let _serial = serial();
    evloop::run(async {
        let mut signals = Signals::new(&[SIGUSR1]).unwrap();
        raise(SIGUSR1);
        assert_eq!(signals.recv().await, Some(SIGUSR1));
    });
}

#[test]
fn a_signal_that_arrives_before_anyone_awaits_is_not_lost() {
    let _serial = serial();
    evloop::run(async {
        let mut signals = Signals::new(&[SIGTERM]).unwrap();
        // Raised on another thread, and waited for, before the first poll.
        std::thread::spawn(|| raise(SIGTERM)).join().unwrap();
        evloop::sleep(Duration::from_millis(1)).await;
        assert_eq!(signals.recv().await, Some(SIGTERM));
    });
}

#[test]
fn one_stream_reports_each_of_its_signals() {
    let _serial = serial();
    evloop::run(async {
        let mut signals = Signals::new(&[SIGUSR1, SIGUSR2, SIGUSR1]).unwrap();
        raise(SIGUSR2);
        raise(SIGUSR1);
        let mut got = vec![signals.recv().await.unwrap(), signals.recv().await.unwrap()];
        got.sort();
        let mut expected = vec![SIGUSR1, SIGUSR2];
        expected.sort();
        assert_eq!(got, expected);
    });
}

#[test]
fn every_listener_on_every_loop_sees_one_signal() {
    let _serial = serial();
    let loops: Vec<EventLoop> = (0..2)
        .map(|_| EventLoop::builder().worker_threads(1).build().unwrap())
        .collect();
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut listeners = Vec::new();
    for lp in &loops {
        for _ in 0..2 {
            let ready = ready_tx.clone();
            listeners.push(lp.handle().run_coroutine_threadsafe(async move {
                let mut signals = Signals::new(&[SIGHUP]).unwrap();
                ready.send(()).unwrap();
                signals.recv().await
            }));
        }
    }
    for _ in 0..listeners.len() {
        ready_rx.recv().unwrap();
    }
    raise(SIGHUP);
    for listener in listeners {
        assert_eq!(listener.result().unwrap(), Some(SIGHUP));
    }
    loops.into_iter().for_each(EventLoop::close);
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    let _serial = serial();
    evloop::run(async {
        let interrupted = signal::ctrl_c();
        raise(SIGINT);
        interrupted.await.unwrap();
    });
}

#[test]
fn ctrl_c_made_outside_a_loop_listens_from_its_first_poll() {
    let _serial = serial();
    let mut interrupted = signal::ctrl_c();
    evloop::run(async move {
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut interrupted).poll(cx))).await;
        assert!(first.is_pending());
        raise(SIGINT);
        interrupted.await.unwrap();
    });
}

#[test]
fn a_loop_handler_runs_at_each_delivery_until_removed() {
    let _serial = serial();
    evloop::run(async {
        let handle = Handle::current();
        let (tx, rx) = mpsc::channel();
        let callback = handle
            .add_signal_handler(SIGUSR2, move || tx.send(()).unwrap())
            .unwrap();
        assert!(!callback.cancelled());
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for _ in 0..3 {
            raise(SIGUSR2);
            let rx = rx.clone();
            evloop::to_thread(move || rx.lock().unwrap().recv().unwrap())
                .await
                .unwrap();
        }

        assert!(handle.remove_signal_handler(SIGUSR2));
        assert!(!handle.remove_signal_handler(SIGUSR2));
        assert!(callback.cancelled());
        // A witness listener proves the next delivery happened; the removed
        // handler did not run for it.
        let mut witness = Signals::new(&[SIGUSR2]).unwrap();
        raise(SIGUSR2);
        assert_eq!(witness.recv().await, Some(SIGUSR2));
        evloop::sleep(Duration::from_millis(5)).await;
        assert!(rx.lock().unwrap().try_recv().is_err());
    });
}

#[test]
fn a_new_handler_replaces_the_old_one_and_cancelling_its_handle_removes_it() {
    let _serial = serial();
    evloop::run(async {
        let handle = Handle::current();
        let (tx, rx) = mpsc::channel();
        let first_tx = tx.clone();
        let first = handle
            .add_signal_handler(SIGHUP, move || first_tx.send("first").unwrap())
            .unwrap();
        let second = handle
            .add_signal_handler(SIGHUP, move || tx.send("second").unwrap())
            .unwrap();
        assert!(first.cancelled());
        raise(SIGHUP);
        let got = evloop::to_thread(move || (rx.recv().unwrap(), rx))
            .await
            .unwrap();
        assert_eq!(got.0, "second");
        assert!(second.cancel());
        assert!(!handle.remove_signal_handler(SIGHUP));
        assert!(got.1.try_recv().is_err());
    });
}

#[test]
fn handlers_of_two_loops_both_run() {
    let _serial = serial();
    let loops: Vec<EventLoop> = (0..2).map(|_| EventLoop::new().unwrap()).collect();
    let (tx, rx) = mpsc::channel();
    for (index, lp) in loops.iter().enumerate() {
        let tx = tx.clone();
        lp.handle()
            .add_signal_handler(SIGUSR1, move || tx.send(index).unwrap())
            .unwrap();
    }
    raise(SIGUSR1);
    let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
    got.sort();
    assert_eq!(got, [0, 1]);
    loops.into_iter().for_each(EventLoop::close);
}

#[test]
fn uncatchable_and_invalid_signals_are_error_values() {
    let _serial = serial();
    evloop::run(async {
        for bad in [SIGKILL, SIGSTOP, libc::SIGSEGV, 0, -3, 999] {
            let error = Signals::new(&[bad]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}: {error}");
            let error = Handle::current()
                .add_signal_handler(bad, || {})
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}: {error}");
        }
        assert!(
            Signals::new(&[SIGKILL])
                .unwrap_err()
                .to_string()
                .contains("SIGKILL")
        );
        assert_eq!(
            Signals::new(&[]).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(!Handle::current().remove_signal_handler(SIGKILL));
    });
    assert!(Signals::new(&[SIGUSR1]).is_err(), "outside a loop");

    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    lp.close();
    assert!(handle.add_signal_handler(SIGUSR1, || {}).is_err());
}
