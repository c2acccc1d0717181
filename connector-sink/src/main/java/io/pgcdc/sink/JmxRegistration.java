package io.pgcdc.sink;

import java.lang.management.ManagementFactory;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An MBean in the platform MBean server, under its name until closed or replaced. */
final class JmxRegistration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JmxRegistration.class);

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final ObjectName name;
    private volatile boolean registered;

    private JmxRegistration(ObjectName name) {
        this.name = name;
    }

    /**
     * Registers {@code mbean}, replacing an MBean of the same name: one left behind by an earlier
     * instance of the same task in this JVM (Connect abandons a task that does not stop in time and
     * starts a new one).
     */
    static <T> JmxRegistration register(ObjectName name, T mbean, Class<T> type) {
        JmxRegistration registration = new JmxRegistration(name);
        // Told when unregistered, so that a replaced instance's close() leaves its successor alone.
        StandardMBean standard = new StandardMBean(mbean, type, false) {
            @Override
            public void postDeregister() {
                registration.registered = false;
            }
        };
        try {
            if (registration.server.isRegistered(name)) {
                log.info("Replacing the MBean {} an earlier instance of this task left behind", name);
                unregister(registration.server, name);
            }
            registration.server.registerMBean(standard, name);
        } catch (JMException e) {
            throw new ConnectException("Cannot register the MBean " + name, e);
        }
        registration.registered = true;
        return registration;
    }

    @Override
    public void close() {
        if (!registered) {
            return;
        }
        try {
            unregister(server, name);
        } catch (JMException e) {
            log.warn("Cannot unregister the MBean {}", name, e);
        }
    }

    private static void unregister(MBeanServer server, ObjectName name) throws JMException {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // already gone: another thread unregistered it between the check and here
        }
    }
}
