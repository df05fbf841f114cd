#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| proxid::fuzzing::host_list(data));
