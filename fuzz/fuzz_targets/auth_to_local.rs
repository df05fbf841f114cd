#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| proxid::fuzzing::auth_to_local(data));
