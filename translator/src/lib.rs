//! Pure translator.
