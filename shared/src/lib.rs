//! Steward's domain, store, AWS access layer and errors.
