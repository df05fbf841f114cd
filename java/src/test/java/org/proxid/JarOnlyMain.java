package org.proxid;

/**
 * Run by {@link OneJarTest} in a JVM that has only proxid.jar and the test classes on
 * its class path and no library path: prints where the library came from and the
 * current user's UID as proxid resolves it.
 */
public final class JarOnlyMain {
    private JarOnlyMain() {}

    public static void main(String[] args) throws ProxidException {
        try (Proxid proxid = Proxid.open(null)) {
            Identity me = proxid.resolve(args[0]);
            System.out.println("loaded-from " + Native.LOADED_FROM);
            System.out.println("uid " + me.uid());
        }
    }
}
