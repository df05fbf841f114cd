#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| proxid::fuzzing::assertion_json(data));
