// The smallest Swift executable: what starting any Swift process costs on this machine.
print("{}")
