//! A `Task<T>` hands its `T` to whoever awaits it: with a `!Send` `T`, the
//! task handle must not cross threads.

use std::rc::Rc;

fn assert_send<T: Send>(_: &T) {}

fn task_of_rc(task: evloop::Task<Rc<u8>>) {
    assert_send(&task);
}

fn main() {
    let _ = task_of_rc;
}
