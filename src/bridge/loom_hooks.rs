//! Entry points for the bridge's loom models (filled in below).
