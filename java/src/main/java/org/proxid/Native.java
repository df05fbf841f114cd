package org.proxid;

import java.io.File;

/**
 * The native methods of libproxid.so (src/ffi/jni/). Package-private: only
 * {@link Proxid} and {@link ProxyRules} call them, and they guarantee a handle is never
 * used during or after it is freed.
 *
 * <p>The library is loaded, first match wins, from:
 * <ol>
 * <li>the system property {@code proxid.library.path} (the library file, or a directory
 * holding {@code libproxid.so}) when set; a failure there is final;
 * <li>{@code System.loadLibrary("proxid")} ({@code java.library.path});
 * <li>the copy inside this jar ({@link EmbeddedLibrary}), checked against its SHA-256.
 * </ol>
 */
final class Native {
    /** System property naming the library file or its directory. */
    static final String LIBRARY_PATH_PROPERTY = "proxid.library.path";

    /** Where the library came from: a file path, {@code java.library.path} or {@code jar:...}. */
    static final String LOADED_FROM = loadLibrary();

    private static String loadLibrary() {
        String path = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (path != null && !path.isEmpty()) {
            File file = new File(path);
            if (file.isDirectory()) {
                file = new File(file, System.mapLibraryName("proxid"));
            }
            System.load(file.getAbsolutePath());
            return file.getAbsolutePath();
        }
        try {
            System.loadLibrary("proxid");
            return "java.library.path";
        } catch (UnsatisfiedLinkError notOnPath) {
            try {
                return EmbeddedLibrary.load();
            } catch (UnsatisfiedLinkError e) {
                e.addSuppressed(notOnPath);
                throw e;
            }
        }
    }

    private Native() {}

    /** Forces the library to load; throws {@link UnsatisfiedLinkError} when it cannot. */
    static void load() {}

    static native long open(String configPathOrNull) throws ProxidException;

    static native void free(long handle);

    static native Identity resolve(long handle, String name) throws ProxidException;

    static native Identity resolveUid(long handle, long uid) throws ProxidException;

    static native Decision authorize(long handle, String proxy, String user, String host)
            throws ProxidException;

    /** {@code proxyGids}/{@code userGids} null: that side sent its name only (uid ignored). */
    static native Decision admit(long handle, String proxy, long proxyUid, long[] proxyGids,
            String user, long userUid, long[] userGids, String host) throws ProxidException;

    static native Decision admitJson(long handle, String requestJson) throws ProxidException;

    /** Rules from {@code <prefix>.*} properties; the handle goes back to {@link #freeProxyRules}. */
    static native long proxyRules(String prefix, String[] keys, String[] values, String source)
            throws ProxidException;

    static native void freeProxyRules(long rules);

    /**
     * {@link #authorize} with extra rules. {@code owner} is the {@link ProxyRules} holding
     * {@code rules}: as an argument it stays reachable, so not freed, during the call.
     */
    static native Decision authorizeWithRules(long handle, Object owner, long rules,
            String proxy, String user, String host) throws ProxidException;

    static native String shortName(long handle, String principal) throws ProxidException;

    static native void invalidate(long handle, String nameOrNull) throws ProxidException;

    static native void reload(long handle, String configPathOrNull) throws ProxidException;

    static native String version();

    /** Only in libraries built with the {@code testing} feature: panics with the message. */
    static native Object testingPanic(String message);

    /** Only in libraries built with the {@code testing} feature: throws an error of that kind. */
    static native void testingError(String kind) throws ProxidException;

    /**
     * Only in libraries built with the {@code testing} feature: an allowed decision for
     * {@code user} with every field set, whatever the policy says.
     */
    static native Decision testingDecision(long handle, String user) throws ProxidException;
}
