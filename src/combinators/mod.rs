//! combinators (being built).
