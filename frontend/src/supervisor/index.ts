// The supervisors' entry: supervisor.html mounts <relais-wallboard>.
import "./wallboard/wallboard.js";
