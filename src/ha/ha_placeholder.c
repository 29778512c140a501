typedef int ha_placeholder_unused;
