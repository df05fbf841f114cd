package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import java.util.Enumeration;
import org.junit.jupiter.api.Test;

/**
 * Issue 17.4: proxid.jar alone is enough. A fresh JVM with only the jar (and the test
 * program) on its class path, no proxid.library.path and a java.library.path that holds
 * no libproxid.so, loads the library the jar carries and resolves the current user; a
 * jar whose library does not match its recorded SHA-256 refuses to load it.
 */
class OneJarTest {
    private static Path jar() {
        String jar = System.getProperty("proxid.test.jar");
        if (jar == null) {
            throw new AssertionError("system property proxid.test.jar is not set");
        }
        return Paths.get(jar);
    }

    private static Path fresh(String name) throws IOException {
        Path base = Paths.get(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name);
    }

    /** Runs JarOnlyMain with only {@code jar} and the test classes. */
    private static TestSupport.Result runWithJarOnly(Path jar, Path tmp) throws IOException {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classes = System.getProperty("proxid.test.classes");
        Path emptyLibraryPath = fresh("no-libs");
        return TestSupport.run(java,
                // The default java.library.path (/usr/lib...) could hold an installed copy.
                "-Djava.library.path=" + emptyLibraryPath,
                "-Djava.io.tmpdir=" + tmp,
                "-cp", jar + ":" + classes,
                JarOnlyMain.class.getName(), TestSupport.run("id", "-un").out.trim());
    }

    @Test
    void theJarAloneLoadsItsLibraryAndResolvesTheCurrentUser() throws IOException {
        Path tmp = fresh("jar-only");
        TestSupport.Result r = runWithJarOnly(jar(), tmp);
        assertEquals(0, r.status, r.out + r.err);
        assertTrue(r.out.contains("loaded-from jar:native/linux-x86_64/libproxid.so"), r.out);
        assertTrue(r.out.contains("uid " + TestSupport.run("id", "-u").out.trim() + "\n"), r.out);
        // The extracted copy and its private directory are gone.
        try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
            assertEquals(0, left.count(), "left in " + tmp);
        }
    }

    @Test
    void aTamperedLibraryIsRefused() throws IOException {
        Path tampered = fresh("tampered").resolve("proxid.jar");
        String library = "native/linux-x86_64/libproxid.so";
        try (ZipFile in = new ZipFile(jar().toFile());
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(tampered))) {
            boolean found = false;
            for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                out.putNextEntry(new ZipEntry(entry.getName()));
                byte[] bytes = readAll(in.getInputStream(entry));
                if (entry.getName().equals(library)) {
                    bytes[bytes.length / 2] ^= 1; // one bit, in the middle of the code
                    found = true;
                }
                // In small pieces: under -Xcheck:jni each native deflate call copies
                // the whole array it is given.
                byte[] piece = new byte[1 << 16];
                for (int off = 0; off < bytes.length; off += piece.length) {
                    int n = Math.min(piece.length, bytes.length - off);
                    System.arraycopy(bytes, off, piece, 0, n);
                    out.write(piece, 0, n);
                }
                out.closeEntry();
            }
            assertTrue(found, library + " is not in " + jar());
        }
        Path tmp = fresh("tampered-tmp");
        TestSupport.Result r = runWithJarOnly(tampered, tmp);
        assertNotEquals(0, r.status, r.out);
        assertTrue(r.err.contains("UnsatisfiedLinkError")
                && r.err.contains("refusing to load the libproxid.so embedded in this jar")
                && r.err.contains("SHA-256"), r.err);
        try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
            assertEquals(0, left.count(), "left in " + tmp);
        }
    }

    @Test
    void theJarRecordsTheSha256OfTheLibraryItCarries() throws IOException {
        try (ZipFile zip = new ZipFile(jar().toFile())) {
            ZipEntry lib = zip.getEntry("native/linux-x86_64/libproxid.so");
            ZipEntry sum = zip.getEntry("native/linux-x86_64/libproxid.so.sha256");
            assertTrue(lib != null && sum != null, "entries missing");
            Path copy = fresh("sum").resolve("libproxid.so");
            Files.write(copy, readAll(zip.getInputStream(lib)));
            String recorded = new String(readAll(zip.getInputStream(sum)), "US-ASCII").split(" ")[0];
            assertEquals(EmbeddedLibrary.sha256(copy), recorded);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (InputStream stream = in; java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream()) {
            byte[] chunk = new byte[1 << 16];
            for (int n; (n = stream.read(chunk)) > 0; ) {
                buf.write(chunk, 0, n);
            }
            return buf.toByteArray();
        }
    }

    /** The Maven descriptors are well-formed, name the jars' coordinates and the crate's version. */
    @Test
    void thePomsDescribeBothJars() throws Exception {
        String[][] poms = {{"pom.xml", "proxid"}, {"pom-hadoop.xml", "proxid-hadoop"}};
        for (String[] pom : poms) {
            javax.xml.parsers.DocumentBuilderFactory factory =
                    javax.xml.parsers.DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            org.w3c.dom.Element project = factory.newDocumentBuilder()
                    .parse(Paths.get(System.getProperty("proxid.test.source"), pom[0]).toFile())
                    .getDocumentElement();
            assertEquals("http://maven.apache.org/POM/4.0.0", project.getNamespaceURI(), pom[0]);
            assertEquals("project", project.getLocalName(), pom[0]);
            assertEquals("org.proxid", child(project, "groupId"), pom[0]);
            assertEquals(pom[1], child(project, "artifactId"), pom[0]);
            assertEquals(System.getProperty("proxid.test.version"), child(project, "version"),
                    pom[0] + " version vs Cargo.toml");
        }
    }

    private static String child(org.w3c.dom.Element parent, String name) {
        for (org.w3c.dom.Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (name.equals(n.getLocalName())) {
                return n.getTextContent().trim();
            }
        }
        throw new AssertionError("no <" + name + ">");
    }
}
