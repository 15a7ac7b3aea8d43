//! Array-based tree math (Appendix C).
