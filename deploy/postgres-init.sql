-- Temporal's own databases live beside Switchyard's in the compose deployment.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
