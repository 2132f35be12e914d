//! net (being built).
