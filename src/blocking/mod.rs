//! blocking (being built).
