//! share (being written).
