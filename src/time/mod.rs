//! Timers: [`sleep`], [`sleep_until`], [`timeout`] and [`wait_for`].
//!
//! Timers are kept by the loop's reactor thread in a hierarchical timing
//! wheel with a resolution of one millisecond. A timer never fires before
//! its deadline: deadlines round up to the next millisecond, so a sleep
//! lasts at least as long as asked, and usually less than a millisecond
//! more (plus the time for a worker to pick the task up).
//!
//! | asyncio                              | evloop                                  |
//! |--------------------------------------|-----------------------------------------|
//! | `await asyncio.sleep(0.5)`           | `sleep(Duration::from_millis(500)).await` |
//! | `await asyncio.wait_for(aw, 2)`      | `wait_for(fut, Duration::from_secs(2)).await` |
//! | `async with asyncio.timeout(2):`     | `timeout(Duration::from_secs(2), fut).await` |
//! | `loop.time()`                        | `Handle::time()` (an `Instant`)         |
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! evloop::run(async {
//!     evloop::sleep(Duration::from_millis(5)).await;
//!     let slow = evloop::sleep(Duration::from_secs(60));
//!     let result = evloop::timeout(Duration::from_millis(5), slow).await;
//!     assert!(result.is_err());
//! });
//! ```

mod error;
mod sleep;
mod timeout;

pub use error::{ResultTimeoutError, TimeoutError};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Timeout, timeout, timeout_at, wait_for};
