//! task (being built).
