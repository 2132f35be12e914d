//! A `Task<T>` hands its `T` to whoever awaits it: with a `!Send` `T`, the
//! task handle must not cross threads.

use std::rc::Rc;

/// A second type named `Task` keeps the compiler from shortening
/// `evloop::Task` in its message, so the expected error does not depend on
/// which other `Task` types the crate graph happens to contain.
#[allow(dead_code)]
struct Task;

fn assert_send<T: Send>(_: &T) {}

fn task_of_rc(task: evloop::Task<Rc<u8>>) {
    assert_send(&task);
}

fn main() {
    let _ = task_of_rc;
}
