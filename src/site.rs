//! Ties the stages together (being written).
