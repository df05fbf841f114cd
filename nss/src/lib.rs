//! glibc NSS module (entry points follow).
