//! Who the user says they are: ID numbers, names, mobile numbers, subject references, and
//! ID-document photo uploads. Imports `face` and below.

pub mod id_document;
pub mod person;
