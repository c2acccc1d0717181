package io.pgcdc.testsupport;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.UnicastRemoteObject;
import java.util.Map;
import java.util.Set;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;

/**
 * This JVM's platform MBean server exposed on a local RMI port, and a client connected to it
 * over that port: what a JMX console or exporter attached to a Connect worker sees.
 */
public final class RemoteJmx implements AutoCloseable {

    private final Registry registry;
    private final JMXConnectorServer server;
    private final JMXConnector client;
    private final JMXServiceURL url;

    private RemoteJmx(Registry registry, JMXConnectorServer server, JMXConnector client, JMXServiceURL url) {
        this.registry = registry;
        this.server = server;
        this.client = client;
        this.url = url;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public static RemoteJmx start() throws IOException {
        int port = freePort();
        Registry registry = LocateRegistry.createRegistry(port);
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(url, Map.of(),
                ManagementFactory.getPlatformMBeanServer());
        server.start();
        return new RemoteJmx(registry, server, JMXConnectorFactory.connect(url), url);
    }

    /** A client of a JVM started with {@code -Dcom.sun.management.jmxremote.port=<port>}. */
    public static RemoteJmx connect(int port) throws IOException {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        return new RemoteJmx(null, null, JMXConnectorFactory.connect(url), url);
    }

    /** The options that open a JVM's platform MBean server on {@code port}, without authentication, to this host. */
    public static java.util.List<String> jvmOptions(int port) {
        return java.util.List.of("-Dcom.sun.management.jmxremote.port=" + port, "-Dcom.sun.management.jmxremote.rmi.port=" + port,
                "-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false");
    }

    public JMXServiceURL url() {
        return url;
    }

    public MBeanServerConnection connection() throws IOException {
        return client.getMBeanServerConnection();
    }

    public Set<ObjectName> names(String pattern) throws Exception {
        return connection().queryNames(new ObjectName(pattern), null);
    }

    /** A numeric attribute read over the remote connection. */
    public long number(String objectName, String attribute) throws Exception {
        return ((Number) connection().getAttribute(new ObjectName(objectName), attribute)).longValue();
    }

    public Object attribute(String objectName, String attribute) throws Exception {
        return connection().getAttribute(new ObjectName(objectName), attribute);
    }

    @Override
    public void close() throws IOException {
        client.close();
        if (server != null) {
            server.stop();
            UnicastRemoteObject.unexportObject(registry, true);
        }
    }
}
