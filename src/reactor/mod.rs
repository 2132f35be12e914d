//! reactor (being built).
