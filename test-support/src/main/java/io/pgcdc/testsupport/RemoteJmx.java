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

    public static RemoteJmx start() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Registry registry = LocateRegistry.createRegistry(port);
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(url, Map.of(),
                ManagementFactory.getPlatformMBeanServer());
        server.start();
        return new RemoteJmx(registry, server, JMXConnectorFactory.connect(url), url);
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
        server.stop();
        UnicastRemoteObject.unexportObject(registry, true);
    }
}
