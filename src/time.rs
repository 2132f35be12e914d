//! Timers: sleep, timeout (being built).
